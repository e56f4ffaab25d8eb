"""Reads and writes the plugin's own state inside the blob a JUCE host (pedalboard) saves.

JUCE wraps a VST3 component's state in XML as `<IComponent>SIZE.DATA</IComponent>`, where DATA
packs the bytes six bits per character, least significant bit first, in its own alphabet.
"""

import json
import re
import struct

ALPHABET = ".ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+"
COMPONENT = re.compile(rb"<IComponent>(.*?)</IComponent>", re.S)


def decode(text: str) -> bytes:
    size, packed = text.split(".", 1)
    out = bytearray(int(size))
    for index, char in enumerate(packed):
        value = ALPHABET.index(char)
        for bit in range(6):
            position = index * 6 + bit
            if position < len(out) * 8 and value >> bit & 1:
                out[position // 8] |= 1 << position % 8
    return bytes(out)


def encode(data: bytes) -> str:
    chars = []
    for start in range(0, len(data) * 8, 6):
        value = 0
        for bit in range(6):
            position = start + bit
            if position < len(data) * 8 and data[position // 8] >> position % 8 & 1:
                value |= 1 << bit
        chars.append(ALPHABET[value])
    return f"{len(data)}.{''.join(chars)}"


def plugin_state(blob: bytes) -> dict:
    """The plugin's JSON state from a pedalboard `raw_state`."""
    return json.loads(decode(COMPONENT.search(blob).group(1).decode()))


def with_plugin_state(blob: bytes, state: dict) -> bytes:
    """`blob` with the plugin's JSON state replaced, its JUCE header's length updated."""
    component = encode(json.dumps(state).encode()).encode()
    xml = COMPONENT.sub(b"<IComponent>" + component + b"</IComponent>", blob[8:])
    return blob[:4] + struct.pack("<I", len(xml)) + xml

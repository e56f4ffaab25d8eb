ardour {
	["type"]    = "dsp",
	name        = "RVC Live Test Signal Player",
	category    = "Utility",
	license     = "MIT",
	author      = "RVC Live tests",
	description = [[Plays the stereo signal the session script put in this instance's shared memory, during a bounce only]]
}

-- Ardour 7.3's Lua API has no headless file import (that is the GUI editor's `do_import`), and a
-- Lua DSP script cannot open files (its interpreter is sandboxed without `io`). So the session
-- script reads the test's signal and hands it over in this instance's shared memory:
--   int[0] = frames per channel, int[1] = the engine's block size, then from float offset 2
--   the left channel, then the right one.
-- The track is then bounced (`Track:bounce_range`) into a region, and this processor is removed.
--
-- While no bounce runs, the engine keeps processing the track in real time with its own block
-- size; a bounce processes in chunks of `Session::bounce_chunk_size` (8192 samples) after
-- blocking every other process callback. So the signal starts with the first call larger than
-- the engine's block, and the region starts exactly at the signal's first sample whatever live
-- cycles ran before. Once started it plays to its end, whatever the size of the bounce's last
-- chunk. The session script puts 8 192 samples of silence before the signal, longer than one
-- engine block.

function dsp_ioconfig ()
	return { { audio_in = 2, audio_out = 2 } }
end

local position = 0

function dsp_run (ins, outs, n_samples)
	for c = 1, #outs do
		ARDOUR.DSP.memset (outs[c], 0, n_samples)
	end
	local shm = self:shmem ()
	local frames = shm:to_int (0):array ()[1]
	local live_block = shm:to_int (1):array ()[1]
	if position == 0 and n_samples <= live_block then
		return
	end
	local n = math.max (0, math.min (n_samples, frames - position))
	if n > 0 then
		for c = 1, 2 do
			ARDOUR.DSP.copy_vector (outs[c], shm:to_float (2 + (c - 1) * frames + position), n)
		end
		position = position + n
	end
end

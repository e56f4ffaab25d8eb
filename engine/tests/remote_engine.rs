//! The remote engine end to end: real `rvc-live serve` processes on loopback ports, clients that
//! stream in real time through the engine's own stream (the plugin's inference side), and the
//! command-line tool. Every loop is bounded in count and time. The tests share the machine's two
//! cores with real-time streams, so they run one at a time.

mod remote_support;

use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use remote_support::*;
use rvc_live_engine::RvcProcessor;
use rvc_live_engine::remote::client::{ConnectError, Connection};
use rvc_live_engine::remote::{Hello, PROTOCOL_VERSION, Refusal, ServerMessage};
use rvc_live_engine::stream::StreamGeometry;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn geometry() -> StreamGeometry {
    RvcProcessor::stream_geometry(&settings(), RATE as f32, BUFFER as u32)
}

/// RMS of `signal` where `weight` is full, and how many slots that is.
fn converted_level(signal: &[f32], weight: &[f32]) -> (f32, usize) {
    let (sum, count) = signal
        .iter()
        .zip(weight)
        .filter(|(_, g)| **g == 1.0)
        .fold((0.0f64, 0usize), |(s, c), (x, _)| (s + f64::from(*x).powi(2), c + 1));
    (((sum / count.max(1) as f64).sqrt()) as f32, count)
}

/// `rvc-live convert --server` gives the file `rvc-live convert` gives on this computer: same
/// voice, same samples, each with its own latency removed.
#[test]
fn a_file_converted_through_a_server_matches_converting_here() {
    let _serial = one_at_a_time();
    let library = level_library();
    let server = Server::start(&library.0, "127.0.0.1:0", &[]);
    let scratch = Scratch::new("cli");
    let input = scratch.0.join("tone.wav");
    write_tone(&input, 233.0, 2.0);

    let convert = |output: &str, how: &[&str]| {
        let output = scratch.0.join(output);
        let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
            .arg("convert")
            .args([&input, &output])
            .args(["--pitch", "5"])
            .args(how)
            .env_remove("RVC_LIVE_SERVER_TOKEN")
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&run.stderr).into_owned();
        assert!(run.status.success(), "{log}");
        let samples: Vec<f32> = hound::WavReader::open(&output).unwrap().samples().map(Result::unwrap).collect();
        (samples, log)
    };
    let voice = level_voice(30);
    let (here, _) = convert(
        "here.wav",
        &[
            "--voice",
            voice.synthesizer.as_ref().unwrap().to_str().unwrap(),
            "--content-encoder",
            voice.content_encoder.as_ref().unwrap().to_str().unwrap(),
        ],
    );
    let address = server.address.to_string();
    let (remote, log) = convert("remote.wav", &["--server", &address, "--voice", &voice_name(30)]);
    assert!(log.contains("blocks converted, 0 played the input"), "{log}");
    assert_eq!(here.len(), remote.len());
    let worst = here.iter().zip(&remote).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(worst < 1e-6, "the server's conversion differs from this computer's by up to {worst}");
    let level = (remote[RATE as usize..].iter().map(|s| s * s).sum::<f32>() / RATE as f32).sqrt();
    assert!((level / (0.30 / 2f32.sqrt()) - 1.0).abs() < 0.05, "the level-30 voice at RMS {level}");
}

/// Eight clients at once, each with its own voice and pitch: every stream carries its own voice,
/// sample for sample what converting it here gives, at exactly the latency it reported.
#[test]
fn eight_concurrent_streams_each_carry_their_own_voice() {
    let _serial = one_at_a_time();
    let library = level_library();
    let server = Server::start(&library.0, "127.0.0.1:0", &["--max-streams", "8"]);
    let input = tone(220.0, 3.0);
    let clients: Vec<_> = LEVELS
        .iter()
        .enumerate()
        .map(|(i, &level)| {
            let (address, input) = (server.address, input.clone());
            std::thread::spawn(move || {
                let semitones = 2.0 * i as f32 - 7.0;
                let mut client = RemoteClient::connect(endpoint(address, &voice_name(level), None), semitones);
                let (wet, weight) = client.play(&input, |_, _| {});
                (level, semitones, wet, weight, client.latency(), client.converted(), client.missed())
            })
        })
        .collect();
    // Eight streams fill this server: it says so ("full") once all have started, but it answers
    // and is not stopping.
    let health = server.health();
    assert!(matches!(health.status.as_str(), "ok" | "full") && health.streams <= 8, "{health:?}");
    for client in clients {
        let (level, semitones, wet, weight, latency, converted, missed) = client.join().unwrap();
        let blocks = converted + missed;
        assert!(converted * 4 >= blocks * 3, "level {level}: {converted} of {blocks} blocks came back in time");
        let local = local_conversion(&level_voice(level), semitones, &input);
        let (compared, worst) = compare_with_local(&wet, &weight, latency, &local);
        assert!(compared > input.len() / 2, "level {level}: only {compared} slots converted");
        assert!(worst < 1e-4, "level {level}: differs from its own voice converted here by {worst}");
        let (rms, _) = converted_level(&wet[latency..], &weight[latency..]);
        let expected = level as f32 / 100.0 / 2f32.sqrt();
        assert!((rms / expected - 1.0).abs() < 0.05, "level {level}: RMS {rms}, its voice's is {expected}");
    }
    let health = server.health();
    assert_eq!(health.streams, 0, "every stream ended with its client: {health:?}");
}

/// The server killed mid-stream: the stream keeps its timing and plays the input, the fallback
/// counter moves; the server restarted on its address: the link reconnects by itself and the
/// voice is back within two blocks of the reconnect.
#[test]
fn a_killed_server_leaves_the_stream_dry_and_a_restarted_one_resumes() {
    let _serial = one_at_a_time();
    let library = level_library();
    let mut server = Server::start(&library.0, "127.0.0.1:0", &[]);
    let address = server.address;
    let mut client = RemoteClient::connect(endpoint(address, &voice_name(20), None), 0.0);
    let input = tone(220.0, 5.0);
    let (kill_at, restart_at) = (RATE as usize * 3 / 2, RATE as usize * 5 / 2);
    let (mut missed_at_kill, mut reconnected_at, mut phase) = (0, None, 0);
    let (wet, weight) = client.play(&input, |played, client| {
        if played >= kill_at && phase == 0 {
            missed_at_kill = client.missed();
            server.kill();
            phase = 1;
        }
        if played >= restart_at && phase == 1 {
            server = Server::start(&library.0, &address.to_string(), &[]);
            phase = 2;
        }
        if reconnected_at.is_none() && client.remote.connections.load(Ordering::Relaxed) >= 2 {
            reconnected_at = Some(played);
        }
    });
    let latency = client.latency();
    let block = client.geometry.block;
    let reconnected_at = reconnected_at.expect("the link reconnected to the restarted server");
    assert!(client.missed() > missed_at_kill, "the fallback counter moved while the server was gone");
    assert_eq!(client.stats.overflows.load(Ordering::Relaxed), 0, "the stream never had to restart");

    // From a block after the kill until the reconnect, every slot is the dry input at exactly the
    // latency, with no gap: the processor says "dry" and the stream keeps its timing.
    let output = mix(&input, &wet, &weight, latency);
    let dry_from = kill_at + latency + block;
    assert!(reconnected_at > dry_from, "the outage lasted past a block");
    for n in dry_from..reconnected_at {
        assert_eq!(weight[n], 0.0, "slot {n} during the outage");
        assert_eq!(output[n], input[n - latency], "slot {n} plays the input at the latency");
    }
    let jump = output.windows(2).skip(latency).map(|w| (w[1] - w[0]).abs()).fold(0.0f32, f32::max);
    assert!(jump < 0.05, "a click of {jump} somewhere in the output");

    let resumed = (reconnected_at..weight.len()).find(|&n| weight[n] == 1.0).expect("the voice came back");
    assert!(
        resumed - reconnected_at <= latency + 2 * block,
        "the voice came back {} slots after the reconnect (latency {latency}, block {block})",
        resumed - reconnected_at
    );
    let (rms, count) = converted_level(&wet[resumed..], &weight[resumed..]);
    assert!(count > block && (rms / (0.20 / 2f32.sqrt()) - 1.0).abs() < 0.05, "after the restart: RMS {rms}");
}

/// A wrong token, an unknown voice, a name that climbs out of the library, another protocol
/// version: each refused with a message for the banner, while a stream already running keeps
/// converting.
#[test]
fn refusals_are_explained_and_the_server_keeps_serving() {
    let _serial = one_at_a_time();
    let library = level_library();
    let server = Server::start(&library.0, "127.0.0.1:0", &["--token", "s3cret-token"]);
    let address = server.address;
    let running = std::thread::spawn(move || {
        let mut client = RemoteClient::connect(endpoint(address, &voice_name(25), Some("s3cret-token")), 0.0);
        client.play(&tone(220.0, 3.0), |_, _| {});
        (client.converted(), client.missed())
    });
    std::thread::sleep(Duration::from_millis(500));

    let hello = |voice: &str| Hello {
        protocol: PROTOCOL_VERSION,
        token: None,
        voice: voice.into(),
        sample_rate: RATE,
        block: geometry().block as u32,
        settings: settings(),
        controls: controls(0.0),
    };
    let open = |voice: &str, token: Option<&str>| {
        Connection::open(
            &endpoint(address, voice, token),
            hello(voice),
            Duration::from_secs(2),
            Duration::from_secs(10),
        )
        .err()
        .expect("refused")
    };
    let refused = |error: ConnectError, expected: Refusal, says: &str| match error {
        ConnectError::Refused { reason, message } => {
            assert_eq!(reason, expected, "{message}");
            assert!(message.contains(says), "{expected:?}: {message}");
        }
        other => panic!("{expected:?}: {other}"),
    };
    refused(open(&voice_name(25), Some("wrong")), Refusal::Token, "token");
    refused(open(&voice_name(25), None), Refusal::Token, "token");
    refused(open("nobody", Some("s3cret-token")), Refusal::UnknownVoice, "no voice named \"nobody\"");
    refused(open("../analytic_synth_v2_40k_level25", Some("s3cret-token")), Refusal::BadRequest, "not a plain name");

    // Another protocol version, from a client of that version.
    let (mut socket, _) = tungstenite::connect(format!("ws://{address}/stream")).unwrap();
    let mut future =
        serde_json::to_value(rvc_live_engine::remote::ClientMessage::Hello(hello(&voice_name(25)))).unwrap();
    future["protocol"] = serde_json::json!(PROTOCOL_VERSION + 1);
    future["token"] = serde_json::json!("s3cret-token");
    socket.send(tungstenite::Message::text(future.to_string())).unwrap();
    let answer = socket.read().unwrap();
    match ServerMessage::parse(answer.to_text().unwrap()).unwrap() {
        ServerMessage::Refused { reason: Refusal::Version, message } => {
            assert!(
                message.contains(&format!("version {PROTOCOL_VERSION}"))
                    && message.contains(&format!("version {}", PROTOCOL_VERSION + 1)),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }

    // The plugin's side: a stream whose server refuses it plays dry and says why.
    let mut refused_client = RemoteClient::connect_or_dry(endpoint(address, &voice_name(25), Some("wrong")));
    let (_, weight) = refused_client.play(&tone(220.0, 0.5), |_, _| {});
    let latency = refused_client.latency();
    assert!(weight[latency..].iter().all(|&g| g == 0.0), "a refused stream plays the input");
    let problem = refused_client.remote.problem().unwrap_or_default();
    assert!(problem.contains("refused the token"), "what the banner shows: {problem:?}");

    let (converted, missed) = running.join().unwrap();
    assert!(missed <= 1 && converted >= 22, "the running stream: {converted} converted, {missed} missed");
    assert_eq!(server.health().status, "ok");
}

/// Thousands of random, cut, oversized and out-of-order frames from several connections, and a
/// client that never reads: the server stays up, its memory bounded, and a stream converting
/// meanwhile is unaffected.
#[test]
fn hostile_frames_leave_the_server_up_and_other_streams_converting() {
    let _serial = one_at_a_time();
    let library = level_library();
    let server = Server::start(&library.0, "127.0.0.1:0", &["--max-streams", "16", "--idle-s", "2"]);
    let address = server.address;
    let running = std::thread::spawn(move || {
        let mut client = RemoteClient::connect(endpoint(address, &voice_name(35), None), 0.0);
        client.play(&tone(220.0, 4.0), |_, _| {});
        (client.converted(), client.missed())
    });
    std::thread::sleep(Duration::from_millis(300));
    let resident_before = resident_bytes(server.pid());

    let block = geometry().block;
    let attackers: Vec<_> = (0..3u64)
        .map(|k| {
            std::thread::spawn(move || fuzz_connections(address, block, 0x5eed_0000 + k, Duration::from_millis(2500)))
        })
        .collect();
    let stuck = std::thread::spawn(move || never_read(address, block, Duration::from_millis(2500)));
    let frames: usize = attackers.into_iter().map(|a| a.join().unwrap()).sum();
    let stuck_sent = stuck.join().unwrap();
    assert!(frames >= 2000, "only {frames} hostile frames were sent");
    assert!(stuck_sent > 20, "the client that never reads sent {stuck_sent} blocks");

    let (converted, missed) = running.join().unwrap();
    assert!(missed <= 2 && converted >= 31, "the running stream: {converted} converted, {missed} missed");
    let health = server.health();
    assert_eq!(health.status, "ok", "{health:?}");
    let grown = resident_bytes(server.pid()).saturating_sub(resident_before);
    assert!(grown < 64 << 20, "the server grew by {} MiB under the attack", grown >> 20);
}

impl RemoteClient {
    /// A stream whose first connect fails: it starts dry, its link retrying, as the plugin's does.
    fn connect_or_dry(endpoint: rvc_live_engine::remote::client::RemoteEndpoint) -> Self {
        use rvc_live_engine::remote::client::{LinkPlan, RemoteProcessor, RemoteStats};
        use rvc_live_engine::stream::{Stream, StreamStats};
        use std::sync::Arc;
        let geometry = geometry();
        let hello = Hello {
            protocol: PROTOCOL_VERSION,
            token: None,
            voice: endpoint.voice.clone(),
            sample_rate: RATE,
            block: geometry.block as u32,
            settings: settings(),
            controls: controls(0.0),
        };
        let plan = LinkPlan {
            endpoint,
            hello,
            controls: Arc::new(|| controls(0.0)),
            processor_delay: geometry.processor_delay(),
        };
        let remote = Arc::new(RemoteStats::default());
        let processor =
            RemoteProcessor::start(plan, None, geometry.crossfade, Duration::from_millis(20), remote.clone()).unwrap();
        let stats = Arc::new(StreamStats::default());
        let (stream, _) = Stream::start(geometry, Box::new(processor), stats.clone(), false).unwrap();
        Self { stream, geometry, remote, stats }
    }
}

/// A deterministic byte source.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// Open connections one after another until `time` runs out, each saying hello (or not) and then
/// sending hostile frames until the server closes it. Returns the frames sent.
fn fuzz_connections(address: std::net::SocketAddr, block: usize, seed: u64, time: Duration) -> usize {
    use rvc_live_engine::remote::AudioBlock;
    let mut noise = Noise(seed);
    let started = Instant::now();
    let mut sent = 0;
    for connection in 0..10_000 {
        if started.elapsed() > time {
            break;
        }
        let Ok((mut socket, _)) = tungstenite::connect(format!("ws://{address}/stream")) else { continue };
        // A hello that names a voice makes the server load it, which costs it CPU the stream
        // converting meanwhile needs on two cores: one connection in eight says a valid hello.
        if connection % 8 == 1 {
            let hello = Hello {
                protocol: PROTOCOL_VERSION,
                token: None,
                voice: voice_name(LEVELS[noise.below(LEVELS.len())]),
                sample_rate: RATE,
                block: block as u32,
                settings: settings(),
                controls: controls(0.0),
            };
            let _ =
                socket.send(tungstenite::Message::text(rvc_live_engine::remote::ClientMessage::Hello(hello).to_text()));
        }
        for _ in 0..200 {
            let length = noise.below(200);
            let valid = AudioBlock { seq: noise.below(1000) as u64, samples: vec![0.1; block] }.encode();
            // Paced, so the attackers (threads of this test, on the server's two cores) leave the
            // CPU to the server; what is tested is what the frames do, not a CPU race.
            std::thread::sleep(Duration::from_millis(2));
            let frame = match noise.below(10) {
                0 => tungstenite::Message::binary(noise.bytes(length / 3)),
                1 => tungstenite::Message::binary(valid[..noise.below(valid.len())].to_vec()),
                2 => tungstenite::Message::binary(vec![
                    1u8;
                    rvc_live_engine::remote::MAX_FRAME_BYTES + 1 + noise.below(1000)
                ]),
                // Valid blocks, numbered out of order: converted in the order they come.
                3 | 6 | 7 => tungstenite::Message::binary(valid),
                4 | 8 => tungstenite::Message::text(String::from_utf8_lossy(&noise.bytes(length)).into_owned()),
                _ => {
                    let mut flipped = valid;
                    let at = noise.below(flipped.len());
                    flipped[at] ^= 1 << noise.below(8);
                    tungstenite::Message::binary(flipped)
                }
            };
            sent += 1;
            if socket.send(frame).is_err() {
                break;
            }
        }
    }
    sent
}

/// A client that streams blocks faster than real time and never reads an answer. Returns the
/// blocks it managed to send.
fn never_read(address: std::net::SocketAddr, block: usize, time: Duration) -> usize {
    use rvc_live_engine::remote::{AudioBlock, ClientMessage};
    let (mut socket, _) = tungstenite::connect(format!("ws://{address}/stream")).unwrap();
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        token: None,
        voice: voice_name(10),
        sample_rate: RATE,
        block: block as u32,
        settings: settings(),
        controls: controls(0.0),
    };
    socket.send(tungstenite::Message::text(ClientMessage::Hello(hello).to_text())).unwrap();
    let _welcome = socket.read().unwrap();
    let started = Instant::now();
    let mut sent = 0;
    while started.elapsed() < time {
        let frame = AudioBlock { seq: sent as u64, samples: vec![0.2; block] }.encode();
        if socket.send(tungstenite::Message::binary(frame)).is_err() {
            break;
        }
        sent += 1;
        std::thread::sleep(Duration::from_millis(5));
    }
    sent
}

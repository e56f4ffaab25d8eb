//! The remote engine over TLS: `rvc-live serve --tls-cert --tls-key` with a certificate made for
//! the test, a client that trusts it through `SSL_CERT_FILE` converting a file through `wss://`,
//! `/health` over HTTPS, and a client that does not trust it refused with a reason.

mod remote_support;

use std::process::Command;
use std::time::Duration;

use remote_support::*;
use rvc_live_engine::remote::client::server_health;

/// A certificate for `localhost` and its key, as PEM files in `scratch`.
fn certificate(scratch: &Scratch) -> (std::path::PathBuf, std::path::PathBuf) {
    let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (certificate, key) = (scratch.0.join("server.pem"), scratch.0.join("server.key"));
    std::fs::write(&certificate, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (certificate, key)
}

#[test]
fn a_tls_server_converts_for_clients_that_trust_it_and_only_those() {
    let scratch = Scratch::new("tls");
    let (cert, key) = certificate(&scratch);
    let library = level_library();
    let server = Server::start(
        &library.0,
        "127.0.0.1:0",
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
    );
    let address = format!("wss://localhost:{}", server.address.port());
    let input = scratch.0.join("tone.wav");
    write_tone(&input, 233.0, 1.5);

    let convert = |output: &str, trusted: Option<&std::path::Path>| {
        let output = scratch.0.join(output);
        let mut command = Command::new(env!("CARGO_BIN_EXE_rvc-live"));
        command.arg("convert").args([&input, &output]).args(["--server", &address, "--voice", &voice_name(30)]);
        command.env_remove("RVC_LIVE_SERVER_TOKEN").env_remove("SSL_CERT_DIR");
        match trusted {
            Some(file) => command.env("SSL_CERT_FILE", file),
            None => command.env_remove("SSL_CERT_FILE"),
        };
        let run = command.output().unwrap();
        (run.status.success(), String::from_utf8_lossy(&run.stderr).into_owned(), output)
    };

    // Trusted: the whole file converts on the server, in the server's voice.
    let (converted, log, output) = convert("trusted.wav", Some(&cert));
    assert!(converted, "{log}");
    assert!(log.contains("blocks converted, 0 played the input"), "{log}");
    let samples: Vec<f32> = hound::WavReader::open(&output).unwrap().samples().map(Result::unwrap).collect();
    let level = (samples[RATE as usize / 2..].iter().map(|s| s * s).sum::<f32>()
        / (samples.len() - RATE as usize / 2) as f32)
        .sqrt();
    assert!((level / (0.30 / 2f32.sqrt()) - 1.0).abs() < 0.05, "the level-30 voice at RMS {level}");

    // Not trusted (the system's authorities never signed it): refused, saying why.
    let (converted, log, _) = convert("untrusted.wav", None);
    assert!(!converted, "a client converted through a server whose certificate it cannot check");
    assert!(log.to_lowercase().contains("certificate"), "the refusal should name the certificate: {log}");

    // A plain client gets no stream from a TLS server.
    let plain = format!("ws://localhost:{}", server.address.port());
    let run = Command::new(env!("CARGO_BIN_EXE_rvc-live"))
        .arg("convert")
        .args([&input, &scratch.0.join("plain.wav")])
        .args(["--server", &plain, "--voice", &voice_name(30)])
        .env_remove("RVC_LIVE_SERVER_TOKEN")
        .output()
        .unwrap();
    assert!(!run.status.success(), "a plain ws:// client streamed from a TLS server");

    // `/health` over HTTPS, trusting the certificate as the CLI did. This test binary holds this
    // one test, so setting the variable races with nothing.
    // SAFETY: no other thread of this process reads the environment now.
    unsafe { std::env::set_var("SSL_CERT_FILE", &cert) };
    let health = server_health(&address, Duration::from_secs(5)).unwrap();
    assert_eq!(health.status, "ok");
    assert!(health.voices.contains(&voice_name(30)), "{:?}", health.voices);
}

//! Scale-out with a standard load balancer: two `rvc-live serve` processes behind HAProxy (Debian's
//! `haproxy`, `cargo xtask test` installs it) running the configuration the project ships,
//! `deploy/haproxy/rvc-live.cfg`. Streams spread over the servers; one server killed, its stream
//! reconnects through the balancer to the other and converts again, while the other server's
//! stream never notices.

mod remote_support;

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use remote_support::*;

struct Balancer(Child);

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn start_balancer(bind: SocketAddr, servers: [SocketAddr; 2]) -> Balancer {
    let config = concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/haproxy/rvc-live.cfg");
    let child = Command::new("haproxy")
        .args(["-f", config, "-db"])
        .env("RVC_LIVE_BALANCER_BIND", bind.to_string())
        .env("RVC_LIVE_SERVER_1", servers[0].to_string())
        .env("RVC_LIVE_SERVER_2", servers[1].to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("haproxy is installed (Debian's `haproxy`; `cargo xtask test` installs it)");
    Balancer(child)
}

#[test]
fn two_servers_behind_haproxy_share_streams_and_take_over_from_each_other() {
    let library = level_library();
    let servers = [Server::start(&library.0, "127.0.0.1:0", &[]), Server::start(&library.0, "127.0.0.1:0", &[])];
    let bind = free_port();
    let _balancer = start_balancer(bind, [servers[0].address, servers[1].address]);
    // Both servers up in the balancer's eyes: its checks pass twice, half a second apart.
    let started = Instant::now();
    while std::net::TcpStream::connect(bind).is_err() {
        assert!(started.elapsed() < Duration::from_secs(10), "the balancer never listened on {bind}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(health(bind).status, "ok", "/health through the balancer");

    let clients: Vec<_> = [20, 40]
        .into_iter()
        .enumerate()
        .map(|(i, level)| {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300 * i as u64));
                let mut client = RemoteClient::connect(endpoint(bind, &voice_name(level), None), 0.0);
                let mut reconnected_at = None;
                let (wet, weight) = client.play(&tone(220.0, 5.0), |played, client| {
                    if reconnected_at.is_none() && client.remote.connections.load(Ordering::Relaxed) >= 2 {
                        reconnected_at = Some(played);
                    }
                });
                (level, wet, weight, reconnected_at, client.latency(), client.geometry.block, client.missed())
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(1500));
    let streams = |server: &Server| server.health().streams;
    assert_eq!(
        [streams(&servers[0]), streams(&servers[1])],
        [1, 1],
        "the balancer gives each server one of the two streams"
    );
    let [mut doomed, survivor] = servers;
    doomed.kill();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(streams(&survivor), 2, "the killed server's stream came to the other");

    let mut moved = 0;
    for client in clients {
        let (level, wet, weight, reconnected_at, latency, block, missed) = client.join().unwrap();
        let Some(reconnected_at) = reconnected_at else {
            assert!(missed <= 1, "level {level}: on the surviving server, {missed} blocks missed");
            continue;
        };
        moved += 1;
        let resumed = (reconnected_at..weight.len()).find(|&n| weight[n] == 1.0).expect("the voice came back");
        assert!(
            resumed - reconnected_at <= latency + 2 * block,
            "level {level}: back {} slots after the reconnect",
            resumed - reconnected_at
        );
        let after: Vec<f32> =
            wet[resumed..].iter().zip(&weight[resumed..]).filter(|(_, g)| **g == 1.0).map(|(x, _)| *x).collect();
        let rms = (after.iter().map(|x| x * x).sum::<f32>() / after.len() as f32).sqrt();
        assert!(
            (rms / (level as f32 / 100.0 / 2f32.sqrt()) - 1.0).abs() < 0.05,
            "level {level} after the move: RMS {rms}"
        );
    }
    assert_eq!(moved, 1, "exactly the killed server's stream reconnected");
}

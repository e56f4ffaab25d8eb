//! The host side of the CLAP conversation: clack-host handlers that record every request the
//! plugin makes, so tests can assert on them (nice-plug's restart after the first activation, the
//! parameter rescan after a state load, ...).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use clack_extensions::latency::{HostLatency, HostLatencyImpl};
use clack_extensions::log::{HostLog, HostLogImpl, LogSeverity};
use clack_extensions::params::{
    HostParams, HostParamsImplMainThread, HostParamsImplShared, ParamClearFlags, ParamRescanFlags,
};
use clack_extensions::state::{HostState, HostStateImpl};
use clack_extensions::tail::{HostTail, HostTailImpl};
use clack_host::prelude::*;

/// The host type handed to clack-host.
pub struct TestHost;

impl HostHandlers for TestHost {
    type Shared<'a> = HostShared;
    type MainThread<'a> = HostMainThread<'a>;
    type AudioProcessor<'a> = HostAudioThread<'a>;

    fn declare_extensions(builder: &mut HostExtensions<Self>, _shared: &Self::Shared<'_>) {
        // Without the latency extension nice-plug never tells the host about its latency.
        builder
            .register::<HostLatency>()
            .register::<HostLog>()
            .register::<HostParams>()
            .register::<HostState>()
            .register::<HostTail>();
    }
}

/// How often the plugin called each host callback. A snapshot of [`HostShared`]'s counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostCalls {
    pub restart_requests: u32,
    pub process_requests: u32,
    pub callback_requests: u32,
    pub latency_changed: u32,
    pub param_rescans: u32,
    pub param_clears: u32,
    pub flush_requests: u32,
    pub state_dirty: u32,
    pub tail_changed: u32,
}

/// Thread-safe host state: the plugin may call these from any thread.
#[derive(Default)]
pub struct HostShared {
    restart_requests: AtomicU32,
    process_requests: AtomicU32,
    callback_requests: AtomicU32,
    latency_changed: AtomicU32,
    param_rescans: AtomicU32,
    param_clears: AtomicU32,
    flush_requests: AtomicU32,
    state_dirty: AtomicU32,
    tail_changed: AtomicU32,
    /// Set by `request_callback`, cleared when the host runs `on_main_thread`.
    callback_pending: AtomicBool,
    log: Mutex<Vec<(LogSeverity, String)>>,
}

impl HostShared {
    pub fn calls(&self) -> HostCalls {
        let get = |c: &AtomicU32| c.load(Ordering::SeqCst);
        HostCalls {
            restart_requests: get(&self.restart_requests),
            process_requests: get(&self.process_requests),
            callback_requests: get(&self.callback_requests),
            latency_changed: get(&self.latency_changed),
            param_rescans: get(&self.param_rescans),
            param_clears: get(&self.param_clears),
            flush_requests: get(&self.flush_requests),
            state_dirty: get(&self.state_dirty),
            tail_changed: get(&self.tail_changed),
        }
    }

    /// Whether the plugin asked for `on_main_thread` since the last call to this.
    pub fn take_callback_request(&self) -> bool {
        self.callback_pending.swap(false, Ordering::SeqCst)
    }

    /// Messages the plugin sent through the host's log extension.
    pub fn log(&self) -> Vec<(LogSeverity, String)> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn bump(counter: &AtomicU32) {
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

impl SharedHandler<'_> for HostShared {
    fn request_restart(&self) {
        Self::bump(&self.restart_requests);
    }

    fn request_process(&self) {
        Self::bump(&self.process_requests);
    }

    fn request_callback(&self) {
        Self::bump(&self.callback_requests);
        self.callback_pending.store(true, Ordering::SeqCst);
    }
}

impl HostLogImpl for HostShared {
    fn log(&self, severity: LogSeverity, message: &str) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).push((severity, message.to_string()));
    }
}

impl HostParamsImplShared for HostShared {
    fn request_flush(&self) {
        Self::bump(&self.flush_requests);
    }
}

/// Main-thread host state; it only forwards to the shared counters.
pub struct HostMainThread<'a> {
    shared: &'a HostShared,
}

impl<'a> HostMainThread<'a> {
    pub fn new(shared: &'a HostShared) -> Self {
        Self { shared }
    }
}

impl<'a> MainThreadHandler<'a> for HostMainThread<'a> {}

impl HostLatencyImpl for HostMainThread<'_> {
    fn changed(&self) {
        HostShared::bump(&self.shared.latency_changed);
    }
}

impl HostParamsImplMainThread for HostMainThread<'_> {
    fn rescan(&self, _flags: ParamRescanFlags) {
        HostShared::bump(&self.shared.param_rescans);
    }

    fn clear(&self, _param_id: ClapId, _flags: ParamClearFlags) {
        HostShared::bump(&self.shared.param_clears);
    }
}

impl HostStateImpl for HostMainThread<'_> {
    fn mark_dirty(&self) {
        HostShared::bump(&self.shared.state_dirty);
    }
}

/// Audio-thread host state, alive between activate and deactivate.
pub struct HostAudioThread<'a> {
    shared: &'a HostShared,
}

impl<'a> HostAudioThread<'a> {
    pub fn new(shared: &'a HostShared) -> Self {
        Self { shared }
    }
}

impl<'a> AudioProcessorHandler<'a> for HostAudioThread<'a> {}

impl HostTailImpl for HostAudioThread<'_> {
    fn changed(&mut self) {
        HostShared::bump(&self.shared.tail_changed);
    }
}

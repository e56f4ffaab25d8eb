-- Drives a headless Ardour 7 (`ardour7-lua tests/ardour/session.lua STEP...`) for the Rust test
-- driver `tests/tests/ardour_session.rs`. Each argument is one step, run in order:
--
--   create               a new session: tracks "Voice" (RVC Live inserted pre-fader) and
--                        "Reference" (no plugin), both playing one stereo region from sample 0
--   open                 load the saved session
--   invert               invert the polarity of both channels of "Reference"
--   set:LABEL=VALUE      set RVC Live's parameter LABEL (as Ardour labels it) to VALUE
--   report               print the latencies and RVC Live's parameters
--   export:NAME[:MUTED]  export the master bus to $RVC_ARDOUR_EXPORT/NAME.wav, with the track
--                        MUTED ("Voice" or "Reference") muted (Ardour's export: freewheeling)
--   capture:NAME[:MUTED] record the master bus in real time onto a new track "Capture NAME",
--                        with MUTED muted, and print the recorded files
--   save                 save the session
--
-- Settings come from the environment: RVC_ARDOUR_SESSION (the session folder; its name is the
-- folder's name), RVC_ARDOUR_SIGNAL (raw little-endian f32, the left channel then the right, for
-- `create`), RVC_ARDOUR_EXPORT (the export folder), RVC_ARDOUR_EXPORT_FRAMES (how many samples
-- from the session's start an export or a capture renders), RVC_ARDOUR_PLUGIN (the plugin's name).
--
-- Results are printed as lines `RVC_ARDOUR key<TAB>value`; a failed step raises a Lua error,
-- which ardour7-lua prints as "Error: ..." and turns into a non-zero exit status.

local RATE = 48000
-- The dummy backend's default buffer size, set explicitly so the latency the tests expect
-- (which counts the host's buffer) does not depend on the default.
local BLOCK = 1024

local function env(name)
	local value = os.getenv(name)
	assert(value and value ~= "", "the environment variable " .. name .. " is not set")
	return value
end

local function emit(key, value)
	print("RVC_ARDOUR " .. key .. "\t" .. tostring(value))
end

local session_dir = env("RVC_ARDOUR_SESSION")
local session_name = session_dir:match("([^/]+)/*$")
local plugin_name = os.getenv("RVC_ARDOUR_PLUGIN") or "RVC Live"

-- The dummy backend needs no audio hardware. Its process thread runs in real time while the
-- session is open; exports switch it to freewheeling, which runs as fast as the CPU allows.
local function start_backend()
	local backend = AudioEngine:set_backend("None (Dummy)", "", "")
	assert(not backend:isnil(), "Ardour has no dummy audio backend")
	assert(backend:set_buffer_size(BLOCK) == 0, "the dummy backend refused a buffer of " .. BLOCK)
end

local function track(name)
	local route = Session:route_by_name(name)
	assert(not route:isnil(), "the session has no track " .. name)
	return route
end

local function rvc_live()
	local route = track("Voice")
	local i = 0
	while true do
		local proc = route:nth_plugin(i)
		assert(not proc:isnil(), "the track Voice holds no " .. plugin_name)
		if proc:display_name() == plugin_name then
			return proc
		end
		i = i + 1
	end
end

-- The index LuaAPI.{get,set}_processor_param take: input controls counted in the plugin's order.
local function parameters(proc)
	local plugin = proc:to_insert():plugin(0)
	local list = {}
	local n = 0
	for j = 0, plugin:parameter_count() - 1 do
		if plugin:parameter_is_control(j) and plugin:parameter_is_input(j) then
			list[#list + 1] = { index = n, label = plugin:parameter_label(j) }
			n = n + 1
		end
	end
	return list
end

-- Silence the player plays before the signal. A bounce starts with the track's gain smoothers
-- still settling (measured: the first 3 131 samples of a bounced sweep came out faded in); the
-- region is trimmed to start after this lead, so it holds the signal exactly.
local LEAD = 8192

-- Reads the raw planar f32 signal file into the player's shared memory, after LEAD samples of
-- silence. Returns the signal's length in frames.
local function load_signal(player)
	local file = assert(io.open(env("RVC_ARDOUR_SIGNAL"), "rb"))
	local data = file:read("a")
	file:close()
	local frames = #data // 8
	assert(#data == frames * 8, "the signal file holds no whole stereo frames")
	local played = LEAD + frames
	local shm = player:to_insert():plugin(0):to_luaproc():shmem()
	shm:allocate(2 + 2 * played)
	shm:to_int(0):set_table({ played, BLOCK }, 2)
	local samples = {}
	for n = 1, LEAD do
		samples[n] = 0
	end
	local offset = 1
	for c = 0, 1 do
		for n = 1, frames do
			samples[LEAD + n], offset = string.unpack("<f", data, offset)
		end
		shm:to_float(2 + c * played):set_table(samples, played)
	end
	return frames
end

local function create()
	start_backend()
	assert(create_session(session_dir, session_name, RATE), "could not create the session " .. session_dir)
	-- Tracks stay unconnected to the backend's inputs (the last `false`), so only the region plays.
	local function new_track(name)
		local list = Session:new_audio_track(2, 2, nil, 1, name, ARDOUR.PresentationInfo.max_order,
			ARDOUR.TrackMode.Normal, false)
		assert(list:size() == 1, "could not add the track " .. name)
		return list:front()
	end
	local voice = new_track("Voice")
	local reference = new_track("Reference")

	-- The test signal becomes a region by bouncing the player (see test_signal_player.lua).
	local player = ARDOUR.LuaAPI.new_luaproc(Session, "RVC Live Test Signal Player")
	assert(not player:isnil(), "the Lua DSP script 'RVC Live Test Signal Player' is not installed")
	local frames = load_signal(player)
	assert(reference:add_processor_by_index(player, 0, nil, true) == 0, "could not add the signal player")
	local region = reference:to_track():bounce_range(0, LEAD + frames, ARDOUR.InterThreadInfo(),
		reference:main_outs(), false, "signal", false)
	assert(not region:isnil(), "bouncing the test signal failed")
	region:trim_front(Temporal.timepos_t(LEAD))
	assert(region:length():samples() == frames, "the trimmed region is not the signal's length")
	assert(reference:remove_processor(player, nil, true) == 0, "could not remove the signal player")
	-- A region fades in and out over 64 samples by default; without the fades it plays the signal
	-- exactly, so the test can compare what it exported with what it put in.
	region:to_audioregion():set_fade_in_active(false)
	region:to_audioregion():set_fade_out_active(false)
	for _, route in ipairs({ voice, reference }) do
		route:to_track():playlist():add_region(region, Temporal.timepos_t(0), 1, false)
	end
	emit("signal_frames", frames)
	for i, source in ipairs(region:to_audioregion():master_sources():table()) do
		emit("signal_source_" .. i, source:to_filesource():path())
	end

	local plugin = ARDOUR.LuaAPI.new_plugin(Session, plugin_name, ARDOUR.PluginType.VST3, "")
	assert(not plugin:isnil(), plugin_name .. " (VST3) is not in Ardour's plugin list: was it scanned?")
	assert(voice:add_processor_by_index(plugin, 0, nil, true) == 0, "could not insert " .. plugin_name)
end

local function open()
	start_backend()
	assert(load_session(session_dir, session_name), "could not load the session " .. session_dir)
end

local function invert()
	local phase = track("Reference"):phase_control()
	phase:set_phase_invert(0, true)
	phase:set_phase_invert(1, true)
end

local function set_parameter(assignment)
	local label, value = assignment:match("^(.-)=(.+)$")
	assert(label, "set: needs LABEL=VALUE, got " .. assignment)
	local proc = rvc_live()
	for _, p in ipairs(parameters(proc)) do
		if p.label == label then
			-- Ardour holds a VST3 parameter in the plugin's plain units (it asks the plugin's
			-- controller for the range), so Pitch=7 is 7 semitones.
			assert(ARDOUR.LuaAPI.set_processor_param(proc, p.index, tonumber(value)),
				"Ardour refused " .. label .. " = " .. value)
			-- The change reaches the plugin's processor, whose state Ardour saves, with the next
			-- process call; a save before that would store the old value in the plugin's chunk.
			assert(ARDOUR.LuaAPI.wait_for_process_callback(4, 2000), "the engine does not process")
			return
		end
	end
	error(plugin_name .. " has no parameter labelled " .. label)
end

local function report()
	-- Latency changes are applied by the process thread; wait for a few cycles.
	ARDOUR.LuaAPI.wait_for_process_callback(4, 2000)
	local proc = rvc_live()
	emit("plugin_latency", proc:to_insert():signal_latency())
	for _, name in ipairs({ "Voice", "Reference" }) do
		local route = track(name)
		emit("route_latency " .. name, route:signal_latency())
		emit("playback_latency " .. name, route:playback_latency(false))
	end
	emit("worst_route_latency", Session:worst_route_latency())
	emit("block_size", Session:get_block_size())
	emit("sample_rate", Session:nominal_sample_rate())
	for _, p in ipairs(parameters(proc)) do
		local value = ARDOUR.LuaAPI.get_processor_param(proc, p.index, true)
		emit("parameter " .. p.label, value)
	end
end

-- Mutes `muted` ("Voice", "Reference" or nothing) and unmutes the other.
local function mute_only(muted)
	local changed = false
	for _, route_name in ipairs({ "Voice", "Reference" }) do
		local mute = route_name == muted and 1 or 0
		local control = track(route_name):mute_control()
		if control:get_value() ~= mute then
			control:set_value(mute, PBD.GroupControlDisposition.NoGroup)
			changed = true
		end
	end
	-- A mute fades the track's output with Ardour's 25 Hz gain smoother, which settles (to within
	-- 1e-5) about 3 500 samples after a process cycle has applied the change: eight 1024-sample
	-- cycles leave a margin, so a render never starts with the end of a fade.
	if changed then
		assert(ARDOUR.LuaAPI.wait_for_process_callback(8, 2000), "the engine stopped processing")
	end
end

local function export(spec)
	local name, muted = spec:match("^([^:]+):?(.*)$")
	mute_only(muted)
	local export = Session:simple_export()
	-- Float WAV at the session's rate, no dither or normalisation: installed with the test's
	-- Ardour configuration (rvc-live-test.preset / .format).
	assert(export:set_preset("6a0c2b4e-5d1f-4a8e-9b3c-52766c6c6977"), "the test's export preset is not installed")
	export:set_name(name)
	export:set_folder(env("RVC_ARDOUR_EXPORT"))
	-- A session made by a script has no session range (the GUI sets one when regions are added),
	-- and SimpleExport refuses to run without a range.
	export:set_range(0, tonumber(env("RVC_ARDOUR_EXPORT_FRAMES")))
	assert(export:run_export(), "the export " .. name .. " failed")
	emit("exported", name)
end

-- Records the master bus while the transport plays from the session's start for
-- RVC_ARDOUR_EXPORT_FRAMES samples, in real time: what a listener hears, and what Ardour's
-- "realtime export" renders (SimpleExport always freewheels, and the Lua API offers no other
-- export). The dummy backend paces its process thread in real time when not freewheeling.
local function capture(spec)
	local name, muted = spec:match("^([^:]+):?(.*)$")
	mute_only(muted)
	local list = Session:new_audio_track(2, 2, nil, 1, "Capture " .. name, ARDOUR.PresentationInfo.max_order,
		ARDOUR.TrackMode.Normal, false)
	assert(list:size() == 1, "could not add a capture track")
	local capture = list:front()
	-- Its input is the master bus's output; its own output goes nowhere (into the master bus it
	-- would make a feedback loop).
	local input, master = capture:input(), Session:master_out():output()
	input:disconnect_all(nil)
	capture:output():disconnect_all(nil)
	for c = 0, 1 do
		assert(input:connect(input:audio(c), master:audio(c):name(), nil) == 0, "could not connect the capture track")
	end
	capture:rec_enable_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
	Session:request_locate(0, false, ARDOUR.LocateTransportDisposition.MustStop, ARDOUR.TransportRequestSource.TRS_UI)
	ARDOUR.LuaAPI.wait_for_process_callback(8, 2000)
	Session:maybe_enable_record(false)
	-- Loading a voice (on activation) stalls the process thread once; count only the capture's.
	Session:reset_xrun_count()
	Session:request_roll(ARDOUR.TransportRequestSource.TRS_UI)
	local frames = tonumber(env("RVC_ARDOUR_EXPORT_FRAMES"))
	local waited = 0
	while Session:transport_sample() < frames do
		sleep(0.05)
		waited = waited + 0.05
		assert(waited < 60 + frames / RATE, "the transport did not roll")
	end
	Session:request_stop(false, false, ARDOUR.TransportRequestSource.TRS_UI)
	while Session:transport_rolling() do
		sleep(0.05)
	end
	Session:disable_record(false, false)
	capture:rec_enable_control():set_value(0, PBD.GroupControlDisposition.NoGroup)
	-- The butler thread writes the captured files and makes the region after the transport stops.
	local regions = {}
	for _ = 1, 100 do
		for r in capture:to_track():playlist():region_list():iter() do
			regions[#regions + 1] = r
		end
		if #regions > 0 then
			break
		end
		sleep(0.05)
	end
	assert(#regions == 1, "the capture made " .. #regions .. " regions, not 1")
	local region = regions[1]
	emit("capture " .. name .. " position", region:position():samples())
	emit("capture " .. name .. " xruns", Session:get_xrun_count())
	for i, source in ipairs(region:to_audioregion():master_sources():table()) do
		emit("capture " .. name .. " " .. i, source:to_filesource():path())
	end
	capture:mute_control():set_value(1, PBD.GroupControlDisposition.NoGroup)
end

local function save()
	assert(Session:save_state("", false, false, false, false, false) == 0, "saving the session failed")
	emit("saved", session_dir)
end

for _, step in ipairs(arg) do
	local verb, rest = step:match("^([^:]+):?(.*)$")
	if verb == "create" then
		create()
	elseif verb == "open" then
		open()
	elseif verb == "invert" then
		invert()
	elseif verb == "set" then
		set_parameter(rest)
	elseif verb == "report" then
		report()
	elseif verb == "export" then
		export(rest)
	elseif verb == "capture" then
		capture(rest)
	elseif verb == "save" then
		save()
	else
		error("unknown step " .. step)
	end
end
emit("done", #arg)

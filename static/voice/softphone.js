// The agent's softphone on the conversation page: call the customer in their browser, then mute,
// hold / resume, keypad, hang up, microphone choice; the recording (both sides mixed here) is
// uploaded in chunks while the call runs. The call bar is the server-rendered channel panel
// (desk.js re-reads it on "voice.call" events), so the page shows the server's state, never a
// guess; this module keeps the audio (RTCPeerConnection) in step with it. Signaling: our offer
// and ICE candidates are POSTed; the customer's answer and candidates arrive as "voice.signal".
import { desktopSocket as socket } from "../js/desktop_socket.js";
import { csrfToken, errorText } from "../js/http.js";
import { format, strings } from "../js/i18n.js";

const panel = document.getElementById("channel-panel");
const conversationId = Number(document.body.dataset.conversationId || 0);
const userId = Number(document.body.dataset.userId || 0);
const T = strings("softphone-strings");
const ICE_BATCH_MS = 50;
const CHUNK_MS = 4000;
const MIC_KEY = "cc-softphone:microphone";

let bar = null; // the #softphone section of the panel (replaced on every refresh)
let call = null; // {id, state, mine, recording, urls}
let mic = null;
let pc = null;
let peer = null;
let remoteSet = false;
let pendingRemote = [];
let outgoing = [];
let outgoingTimer = null;
let muted = false;
let lastError = "";
let recorder = null;
const remoteAudio = new Audio();
remoteAudio.autoplay = true;

function newId() {
  return `a${Math.random().toString(36).slice(2, 12)}${Date.now().toString(36)}`;
}

async function post(url, body, { raw = false } = {}) {
  const response = await fetch(url, {
    method: "POST",
    body: raw ? body : JSON.stringify(body || {}),
    headers: { "X-CSRFToken": csrfToken(), "Content-Type": raw ? "application/octet-stream" : "application/json" },
    credentials: "same-origin",
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(errorText(data, response, T.failed));
  return data;
}

function showError(text) {
  lastError = text || "";
  const line = bar && bar.querySelector("#softphone-error");
  if (!line) return;
  line.textContent = lastError;
  line.hidden = !lastError;
}

// --- microphone ------------------------------------------------------------------------------
async function microphone() {
  if (mic && mic.getAudioTracks().some((track) => track.readyState === "live")) return mic;
  const chosen = localStorage.getItem(MIC_KEY);
  try {
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: chosen ? { deviceId: { exact: chosen } } : true });
    } catch (error) {
      if (!chosen || error.name === "NotAllowedError") throw error;
      mic = await navigator.mediaDevices.getUserMedia({ audio: true }); // the chosen one is gone
    }
  } catch (error) {
    mic = null;
    if (error && error.name === "NotAllowedError") throw new Error(T.microphone_refused);
    if (error && error.name === "NotFoundError") throw new Error(T.no_microphone);
    throw new Error(format(T.microphone_failed, { error: (error && error.message) || error }));
  }
  applyMute();
  fillMicrophones();
  return mic;
}

async function fillMicrophones() {
  const select = bar && bar.querySelector("select[data-action=microphone]");
  if (!select || !navigator.mediaDevices.enumerateDevices) return;
  const devices = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "audioinput" && d.deviceId);
  const chosen = localStorage.getItem(MIC_KEY) || "";
  const options = [select.options[0]];
  devices.forEach((device, index) => {
    const option = new Option(device.label || format(T.microphone_n, { n: index + 1 }), device.deviceId);
    option.selected = device.deviceId === chosen;
    options.push(option);
  });
  select.replaceChildren(...options);
}

async function switchMicrophone(deviceId) {
  if (deviceId) localStorage.setItem(MIC_KEY, deviceId);
  else localStorage.removeItem(MIC_KEY);
  if (!mic) return;
  const old = mic;
  mic = null;
  try {
    const stream = await microphone();
    const sender = pc && pc.getSenders().find((s) => s.track === null || (s.track && s.track.kind === "audio"));
    if (sender && call && call.state !== "on_hold") await sender.replaceTrack(stream.getAudioTracks()[0]);
    for (const track of old.getTracks()) track.stop();
  } catch (error) {
    mic = old;
    showError(error.message);
  }
}

function applyMute() {
  if (mic) for (const track of mic.getAudioTracks()) track.enabled = !muted;
  const button = bar && bar.querySelector("[data-action=mute]");
  if (button) {
    button.textContent = muted ? T.unmute : T.mute;
    button.setAttribute("aria-pressed", muted ? "true" : "false");
  }
}

// --- the peer connection ------------------------------------------------------------------------
function closePeer() {
  stopRecording();
  if (pc) pc.close();
  pc = null;
  peer = null;
  remoteSet = false;
  pendingRemote = [];
  outgoing = [];
  window.ccSoftphone = null;
}

function releaseMicrophone() {
  if (mic) for (const track of mic.getTracks()) track.stop();
  mic = null;
  muted = false;
}

async function signal(kind, data) {
  await post(call.urls.signal, { kind, peer, data });
}

function flushOutgoing() {
  outgoingTimer = null;
  if (!outgoing.length || !call) return;
  const batch = outgoing;
  outgoing = [];
  signal("ice", batch).catch((error) => showError(error.message));
}

// A new offer: when the customer answers, after this page reloaded, or when the widget asks.
async function connectAudio() {
  closePeer();
  const stream = await microphone();
  peer = newId();
  const ownPeer = peer;
  pc = new RTCPeerConnection({ iceServers: JSON.parse(document.getElementById("softphone-ice-servers").textContent) });
  window.ccSoftphone = { pc, peer, callId: call.id };
  for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
  pc.addEventListener("track", (event) => {
    remoteAudio.srcObject = event.streams[0];
    remoteAudio.play().catch(() => showError(T.sound_blocked));
    startRecording(event.streams[0]);
  });
  pc.addEventListener("icecandidate", (event) => {
    if (!event.candidate || peer !== ownPeer) return;
    outgoing.push(event.candidate.toJSON());
    if (!outgoingTimer) outgoingTimer = setTimeout(flushOutgoing, ICE_BATCH_MS);
  });
  pc.addEventListener("connectionstatechange", renderAudio);
  applyHold();
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  await signal("offer", { type: offer.type, sdp: offer.sdp });
}

async function onSignal(payload) {
  if (!call || payload.call_id !== call.id || !call.mine) return;
  if (payload.kind === "renegotiate") {
    if (call.state === "connected" || call.state === "on_hold") await connectAudio();
    return;
  }
  if (payload.peer !== peer || !pc) return; // meant for a connection this page no longer has
  if (payload.kind === "answer") {
    await pc.setRemoteDescription(payload.data);
    remoteSet = true;
    for (const candidate of pendingRemote) await pc.addIceCandidate(candidate).catch(() => {});
    pendingRemote = [];
  } else if (payload.kind === "ice") {
    for (const candidate of payload.data || []) {
      if (remoteSet) await pc.addIceCandidate(candidate).catch(() => {});
      else pendingRemote.push(candidate);
    }
  }
}

// On hold the customer gets none of our audio (no packets: the sender has no track) and we do
// not hear them; their widget plays the hold tone.
function applyHold() {
  if (!pc) return;
  const held = call && call.state === "on_hold";
  const track = mic ? mic.getAudioTracks()[0] : null;
  for (const sender of pc.getSenders()) {
    if (!sender.track || sender.track.kind === "audio") sender.replaceTrack(held ? null : track).catch(() => {});
  }
  remoteAudio.muted = held;
}

function renderAudio() {
  const line = bar && bar.querySelector("#softphone-audio");
  if (!line) return;
  const state = pc ? pc.connectionState : "new";
  line.dataset.connection = state;
  line.textContent = { connected: T.audio_connected, failed: T.audio_lost, disconnected: T.audio_lost }[state] || T.audio_connecting;
}

// --- recording ------------------------------------------------------------------------------------
function startRecording(remoteStream) {
  if (!call || call.recording === "off" || recorder || !window.MediaRecorder) return;
  const context = new AudioContext();
  const mixed = context.createMediaStreamDestination();
  context.createMediaStreamSource(mic).connect(mixed);
  context.createMediaStreamSource(remoteStream).connect(mixed);
  const segment = newId();
  const url = call.urls.recording;
  let seq = 0;
  let uploads = Promise.resolve();
  const media = new MediaRecorder(mixed.stream, { mimeType: "audio/webm;codecs=opus" });
  media.addEventListener("dataavailable", (event) => {
    if (!event.data || !event.data.size) return;
    const n = seq++;
    uploads = uploads.then(() => upload(`${url}?segment=${segment}&seq=${n}`, event.data));
  });
  media.addEventListener("stop", () => context.close().catch(() => {}));
  media.start(CHUNK_MS);
  recorder = media;
}

async function upload(url, blob) {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await post(url, blob, { raw: true });
      return;
    } catch (error) {
      if (attempt === 2) showError(format(T.recording_failed, { error: error.message }));
      await new Promise((resolve) => setTimeout(resolve, 1000 * (attempt + 1)));
    }
  }
}

function stopRecording() {
  if (recorder && recorder.state !== "inactive") recorder.stop();
  recorder = null;
}

// --- the bar -------------------------------------------------------------------------------------
function readBar() {
  bar = document.getElementById("softphone");
  if (!bar) return null;
  const data = bar.dataset;
  if (!data.callId) return null;
  return {
    id: Number(data.callId),
    state: data.state,
    mine: data.mine === "1",
    recording: data.recording,
    inbound: data.direction === "inbound",
    urls: {
      answer: data.answerUrl,
      hold: data.holdUrl,
      resume: data.resumeUrl,
      dtmf: data.dtmfUrl,
      hangUp: data.hangUpUrl,
      signal: data.signalUrl,
      recording: data.recordingUrl,
    },
  };
}

function tick() {
  for (const timer of document.querySelectorAll("#softphone .call-timer[data-since]")) {
    const since = Date.parse(timer.dataset.since);
    if (Number.isNaN(since)) continue;
    const seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
    timer.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }
}

// An inbound call ringing on this desktop rings out loud (a tone made here, no file).
let ringer = null;
function ring(on) {
  if (!on) {
    if (ringer) {
      clearInterval(ringer.timer);
      ringer.context.close().catch(() => {});
    }
    ringer = null;
    return;
  }
  if (ringer) return;
  const context = new AudioContext();
  const beep = () => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = 520;
    gain.gain.value = 0.08;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + 0.6);
  };
  beep();
  ringer = { context, timer: setInterval(beep, 2000) };
}

async function sync() {
  const next = readBar();
  const previous = call;
  call = next;
  ring(Boolean(call && call.mine && call.inbound && call.state === "ringing"));
  showError(lastError);
  applyMute();
  tick();
  fillMicrophones();
  if (!call || call.state === "ended" || !call.mine) {
    closePeer();
    if (!call || !call.mine) releaseMicrophone();
    return;
  }
  const live = call.state === "connected" || call.state === "on_hold";
  if (!live) closePeer(); // ringing, or back in a queue after a transfer to a service
  const sameCall = previous && previous.id === call.id;
  try {
    if (live && (!pc || !sameCall)) await connectAudio();
    else applyHold();
  } catch (error) {
    showError(error.message);
  }
  renderAudio();
}

async function act(button) {
  const action = button.dataset.action;
  showError("");
  try {
    if (action === "call") {
      await microphone(); // refused: a clear message, and no call starts
      button.disabled = true;
      await post(bar.dataset.startUrl);
    } else if (action === "answer") {
      await microphone(); // refused: a clear message, and the call is not answered
      button.disabled = true;
      await post(call.urls.answer);
    } else if (action === "mute") {
      muted = !muted;
      applyMute();
    } else if (action === "hold" || action === "resume") {
      await post(call.urls[action]);
    } else if (action === "dtmf") {
      const sender = pc && pc.getSenders().find((s) => s.dtmf);
      if (sender && sender.dtmf && sender.dtmf.canInsertDTMF) sender.dtmf.insertDTMF(button.dataset.key);
      await post(call.urls.dtmf, { digits: button.dataset.key });
    } else if (action === "hang-up") {
      await post(call.urls.hangUp);
    }
  } catch (error) {
    button.disabled = false;
    showError(error.message);
  }
}

if (panel && conversationId) {
  panel.addEventListener("click", (event) => {
    const button = event.target.closest("#softphone button[data-action]");
    if (button) act(button);
  });
  panel.addEventListener("change", (event) => {
    if (event.target.matches("#softphone select[data-action=microphone]")) switchMicrophone(event.target.value);
  });
  panel.addEventListener("panel-updated", sync);
  socket.on("event", (event) => {
    const payload = event.payload || {};
    if (event.type === "voice.signal" && Number(payload.conversation_id) === conversationId) {
      onSignal(payload).catch((error) => showError(error.message));
    }
    // Handed to someone else or sent to a queue: this desktop drops the audio at once (its panel
    // may not be readable any more: the conversation is not this agent's).
    const away = payload.state === "queued" || payload.state === "ended" || payload.agent_id !== userId;
    if (event.type === "voice.call" && call && payload.call_id === call.id && away) {
      closePeer();
      releaseMicrophone();
      if (payload.agent_id !== userId && call.mine && bar) bar.replaceChildren(); // not ours now
    }
  });
  setInterval(tick, 1000);
  window.addEventListener("pagehide", () => {
    stopRecording(); // the last chunk is sent while the page unloads, when the browser allows
  });
}

// The agent's softphone on the conversation page: call the customer in their browser, then mute,
// hold / resume, keypad, hang up, microphone choice; the recording (both sides mixed here) is
// uploaded in chunks while the call runs. The call bar is the server-rendered channel panel
// (desk.js re-reads it on "voice.call" events), so the page shows the server's state, never a
// guess; this module keeps the audio (RTCPeerConnection) in step with it. Signaling: our offer
// and ICE candidates are POSTed; the customer's answer and candidates arrive as "voice.signal".
import { desktopSocket as socket } from "../js/desktop_socket.js";
import { CallPeer } from "../js/call_peer.js";
import { csrfToken, errorText } from "../js/http.js";
import { format, strings } from "../js/i18n.js";
import { playTone } from "../js/tones.js";

const panel = document.getElementById("channel-panel");
const conversationId = Number(document.body.dataset.conversationId || 0);
const userId = Number(document.body.dataset.userId || 0);
const T = strings("softphone-strings");
const CHUNK_MS = 4000;
const MIC_KEY = "cc-softphone:microphone";

let bar = null; // the #softphone section of the panel (replaced on every refresh)
let call = null; // {id, state, mine, recording, urls}
let mic = null;
let peer = null; // the CallPeer of our latest offer
// A consultation: the agent on the call talks to a colleague over a second connection ("bridge":
// we offer it as the agent on the call, we answer it as the colleague); in a conference the agent
// on the call mixes each side's audio for the other two (WebAudio).
let bridge = null;
let mixer = null;
const colleagueAudio = new Audio();
colleagueAudio.autoplay = true;
let signals = Promise.resolve(); // the customer's signals, handled in order
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
    await microphone();
    applyHold(); // the new microphone goes out (unless the customer is on hold)
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
  closeCustomerPeer();
  closeBridge();
}

function closeCustomerPeer() {
  stopRecording();
  if (peer) peer.close();
  peer = null;
  window.ccSoftphone = null;
}

function closeBridge() {
  if (bridge) bridge.close();
  bridge = null;
  window.ccConsult = null;
  colleagueAudio.srcObject = null;
  closeMixer();
}

function closeMixer() {
  if (mixer) mixer.context.close().catch(() => {});
  mixer = null;
}

function newBridge(id, to, onOffer) {
  const url = call.urls.signal;
  const own = new CallPeer({
    id,
    iceServers: JSON.parse(document.getElementById("softphone-ice-servers").textContent),
    stream: mic,
    holdCandidates: onOffer,
    onTrack: (remote) => {
      colleagueAudio.srcObject = remote;
      colleagueAudio.play().catch(() => showError(T.sound_blocked));
      applyHold();
    },
    onState: renderAudio,
    signal: (kind, data) => post(url, { kind, peer: id, data, to }).catch((error) => showError(error.message)),
  });
  bridge = own;
  window.ccConsult = { pc: own.pc, peer: id };
  return own;
}

// The agent on the call offers the colleague a connection once they answered the consultation.
async function connectBridge() {
  closeBridge();
  await microphone();
  const id = newId();
  const own = newBridge(id, "consult", true);
  applyHold();
  const offer = await own.offer();
  await post(call.urls.signal, { kind: "offer", peer: id, data: offer, to: "consult" });
  own.descriptionSent();
}

// In a conference each side hears the other two: the customer gets our microphone mixed with
// the colleague, the colleague our microphone mixed with the customer.
function mixed(forSide) {
  const customerStream = remoteAudio.srcObject;
  const colleagueStream = colleagueAudio.srcObject;
  if (!mic || !customerStream || !colleagueStream) return mic ? mic.getAudioTracks()[0] : null;
  if (!mixer || mixer.customer !== customerStream || mixer.colleague !== colleagueStream) {
    closeMixer();
    const context = new AudioContext();
    const sources = {
      mic: context.createMediaStreamSource(mic),
      customer: context.createMediaStreamSource(customerStream),
      colleague: context.createMediaStreamSource(colleagueStream),
    };
    const toCustomer = context.createMediaStreamDestination();
    const toColleague = context.createMediaStreamDestination();
    sources.mic.connect(toCustomer);
    sources.colleague.connect(toCustomer);
    sources.mic.connect(toColleague);
    sources.customer.connect(toColleague);
    mixer = { context, customer: customerStream, colleague: colleagueStream, toCustomer, toColleague };
  }
  return (forSide === "customer" ? mixer.toCustomer : mixer.toColleague).stream.getAudioTracks()[0];
}

function releaseMicrophone() {
  if (mic) for (const track of mic.getTracks()) track.stop();
  mic = null;
  muted = false;
}

// A new offer: when the customer answers, after this page reloaded, or when the widget asks.
async function connectAudio() {
  closePeer();
  const stream = await microphone();
  const url = call.urls.signal;
  const id = newId();
  const ownPeer = new CallPeer({
    id,
    iceServers: JSON.parse(document.getElementById("softphone-ice-servers").textContent),
    stream,
    holdCandidates: true,
    onTrack: (remote) => {
      remoteAudio.srcObject = remote;
      remoteAudio.play().catch(() => showError(T.sound_blocked));
      startRecording(remote);
    },
    onState: renderAudio,
    signal: (kind, data) => post(url, { kind, peer: id, data }).catch((error) => showError(error.message)),
  });
  peer = ownPeer;
  window.ccSoftphone = { pc: ownPeer.pc, peer: id, callId: call.id };
  applyHold();
  const offer = await ownPeer.offer();
  await post(url, { kind: "offer", peer: id, data: offer });
  ownPeer.descriptionSent();
}

async function handleSignal(payload) {
  if (!call || payload.call_id !== call.id) return;
  const from = payload.from || "customer";
  if (from === "owner" && call.consulted) {
    // The agent on the call offers us (the colleague) the consultation's connection.
    if (payload.kind === "offer") {
      closeBridge();
      await microphone();
      const own = newBridge(payload.peer, "owner", false);
      const answer = await own.answer(payload.data);
      await post(call.urls.signal, { kind: "answer", peer: payload.peer, data: answer, to: "owner" });
    } else if (payload.kind === "ice" && bridge && payload.peer === bridge.id) {
      await bridge.addCandidates(payload.data);
    }
    return;
  }
  if (!call.mine) return;
  if (from === "consult") {
    if (!bridge || payload.peer !== bridge.id) return;
    if (payload.kind === "answer") await bridge.setRemote(payload.data);
    else if (payload.kind === "ice") await bridge.addCandidates(payload.data);
    return;
  }
  if (payload.kind === "renegotiate") {
    if (call.state === "connected" || call.state === "on_hold") await connectAudio();
    return;
  }
  if (!peer || payload.peer !== peer.id) return; // meant for a connection this page no longer has
  if (payload.kind === "answer") await peer.setRemote(payload.data);
  else if (payload.kind === "ice") await peer.addCandidates(payload.data);
}

function onSignal(payload) {
  signals = signals.then(() => handleSignal(payload)).catch((error) => showError(error.message));
  return signals;
}

// On hold the customer gets none of our audio (no packets: the sender has no track) and we do
// not hear them; their widget plays the hold tone.
function applyHold() {
  const micTrack = mic ? mic.getAudioTracks()[0] : null;
  const conference = Boolean(call && call.consultState === "conference");
  const held = Boolean(call && call.state === "on_hold");
  if (peer) peer.send(held ? null : conference ? mixed("customer") : micTrack);
  if (bridge && call && call.mine) bridge.send(conference ? mixed("colleague") : micTrack);
  if (!conference) closeMixer();
  remoteAudio.muted = held;
}

function renderAudio() {
  const lines = [
    [bar && bar.querySelector("#softphone-audio"), peer],
    [bar && bar.querySelector("#softphone-consult-audio"), bridge],
  ];
  for (const [line, connection] of lines) {
    if (!line) continue;
    const state = connection ? connection.pc.connectionState : "new";
    line.dataset.connection = state;
    line.textContent = { connected: T.audio_connected, failed: T.audio_lost, disconnected: T.audio_lost }[state] || T.audio_connecting;
  }
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
    consultState: data.consultState || "",
    consulted: data.consulted === "1",
    // A phone call's audio is on the agent's phone: the server sends the controls to the
    // provider and the bar follows its callbacks (no WebRTC here).
    phone: data.kind === "phone",
    urls: {
      mute: data.muteUrl,
      unmute: data.unmuteUrl,
      consult: data.consultUrl,
      consultCancel: data.consultCancelUrl,
      consultTransfer: data.consultTransferUrl,
      merge: data.mergeUrl,
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
let stopRinging = null;
function ring(on) {
  if (on && !stopRinging) stopRinging = playTone("incoming");
  if (!on && stopRinging) {
    stopRinging();
    stopRinging = null;
  }
}

async function sync() {
  const next = readBar();
  const previous = call;
  call = next;
  if (call && call.phone) {
    ring(false);
    closePeer();
    releaseMicrophone();
    tick();
    showError(lastError);
    return;
  }
  ring(Boolean(call && call.mine && call.inbound && call.state === "ringing"));
  showError(lastError);
  applyMute();
  tick();
  fillMicrophones();
  const consulting = Boolean(call && ["talking", "conference"].includes(call.consultState));
  if (call && call.consulted && consulting) {
    closeCustomerPeer(); // the colleague has no connection to the customer: only the bridge
    renderAudio();
    return; // the agent on the call offers the bridge (handleSignal answers it)
  }
  if (!call || call.state === "ended" || !call.mine) {
    closePeer();
    if (!call || !call.mine) releaseMicrophone();
    return;
  }
  if (!consulting) closeBridge();
  const live = call.state === "connected" || call.state === "on_hold";
  if (!live) closePeer(); // ringing, or back in a queue after a transfer to a service
  const sameCall = previous && previous.id === call.id;
  try {
    if (live && (!peer || !sameCall)) await connectAudio();
    if (consulting && !bridge) await connectBridge();
    applyHold();
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
    } else if (action === "dial") {
      button.disabled = true;
      await post(bar.dataset.dialUrl, { number: button.dataset.number });
    } else if (action === "answer") {
      if (!call.phone) await microphone(); // refused: a clear message, and the call is not answered
      button.disabled = true;
      await post(call.urls.answer);
    } else if (call.phone && (action === "mute" || action === "unmute")) {
      button.disabled = true;
      await post(call.urls[action]);
    } else if (action === "mute") {
      muted = !muted;
      applyMute();
    } else if (action === "hold" || action === "resume") {
      await post(call.urls[action]);
    } else if (action === "dtmf") {
      if (peer) peer.dtmf(button.dataset.key);
      await post(call.urls.dtmf, { digits: button.dataset.key });
    } else if (action === "hang-up") {
      await post(call.urls.hangUp);
    } else if (action === "consult") {
      const target = bar.querySelector("[data-consult-target]");
      await post(call.urls.consult, { agent: target ? target.value : "" });
    } else if (action === "consult-cancel") {
      await post(call.urls.consultCancel);
    } else if (action === "merge") {
      await post(call.urls.merge);
    } else if (action === "consult-transfer") {
      await post(call.urls.consultTransfer);
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
      onSignal(payload);
    }
    // Handed to someone else or sent to a queue: this desktop drops the audio at once (its panel
    // may not be readable any more: the conversation is not this agent's).
    const away = payload.state === "queued" || payload.state === "ended" || payload.agent_id !== userId;
    // The colleague of a consultation that is over (or a call that ended): drop the bridge.
    const consultOver = payload.state === "ended" || payload.consult_agent_id !== userId;
    if (event.type === "voice.call" && call && call.consulted && payload.call_id === call.id && consultOver) {
      closeBridge();
      releaseMicrophone();
      if (bar) bar.replaceChildren();
    }
    if (event.type === "voice.call" && call && call.mine && payload.call_id === call.id && away) {
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

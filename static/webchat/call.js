// The customer's side of a web call, inside the chat: the agent calls, the widget rings with
// Answer / Decline; audio flows browser to browser (WebRTC). Signaling goes over the chat's socket:
// the agent's offer and ICE candidates arrive as "voice.signal" events, the widget's answer and
// candidates leave as "call_signal" frames. The call's state ("voice.call") is the server's.
import { CallPeer } from "../js/call_peer.js";
import { playTone } from "../js/tones.js";

const ENDED_SHOWN_MS = 4000;

export function createCall({ send, t, root }) {
  const $ = (selector) => root.querySelector(selector);
  const ui = {
    status: $("#chat-call-status"),
    notice: $("#chat-call-notice"),
    answer: $("#chat-call-answer"),
    decline: $("#chat-call-decline"),
    mute: $("#chat-call-mute"),
    hangup: $("#chat-call-hangup"),
    error: $("#chat-call-error"),
    audio: $("#chat-call-audio"),
  };
  let call = null; // the server's view: {call_id, state, recording_notice, ice_servers}
  let mic = null;
  let peer = null; // the CallPeer answering the agent's offer (its id is the agent's peer id)
  let signals = Promise.resolve(); // signaling is handled in order, one message at a time
  let muted = false;
  let stopTone = () => {};
  let hideTimer = null;
  let since = null;
  let clock = null;
  let notBefore = 0; // server time (ms) the widget read the call at: older offers are not for it

  function showError(text) {
    ui.error.textContent = text || "";
    ui.error.hidden = !text;
  }

  async function microphone() {
    if (mic && mic.getAudioTracks().some((track) => track.readyState === "live")) return mic;
    try {
      mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      mic = null;
      throw new Error(error && error.name === "NotFoundError" ? t("call_no_microphone") : t("call_microphone_refused"));
    }
    applyMute();
    return mic;
  }

  function applyMute() {
    if (mic) for (const track of mic.getAudioTracks()) track.enabled = !muted;
    ui.mute.textContent = muted ? t("call_unmute") : t("call_mute");
    ui.mute.setAttribute("aria-pressed", muted ? "true" : "false");
  }

  function silence() {
    stopTone();
    stopTone = () => {};
  }

  function tone(name) {
    silence();
    stopTone = playTone(name);
  }

  function closePeer() {
    if (peer) peer.close();
    peer = null;
    window.ccWebCall = null;
  }

  function teardown() {
    closePeer();
    silence();
    if (mic) for (const track of mic.getTracks()) track.stop();
    mic = null;
    ui.audio.srcObject = null;
    clearInterval(clock);
    clock = null;
  }

  async function answerOffer(offerPeer, description) {
    closePeer();
    const stream = await microphone();
    const callId = call.call_id;
    peer = new CallPeer({
      id: offerPeer,
      iceServers: call.ice_servers,
      stream,
      onTrack: (remote) => {
        ui.audio.srcObject = remote;
        ui.audio.play().catch(() => {});
      },
      onState: render,
      signal: (kind, data) => send({ type: "call_signal", call_id: callId, kind, peer: offerPeer, data }),
    });
    window.ccWebCall = { pc: peer.pc, peer: offerPeer };
    const answer = await peer.answer(description);
    send({ type: "call_signal", call_id: callId, kind: "answer", peer: offerPeer, data: answer });
  }

  function clockText() {
    if (!since) return "";
    const seconds = Math.max(0, Math.floor((Date.now() - since) / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function render() {
    root.hidden = !call;
    if (!call) return;
    root.dataset.state = call.state;
    const ringing = call.state === "ringing";
    const live = call.state === "connected" || call.state === "on_hold";
    ui.answer.hidden = !ringing;
    ui.decline.hidden = !ringing;
    ui.hangup.hidden = !live;
    ui.mute.hidden = !live;
    ui.notice.hidden = !(live && call.recording_notice);
    const inbound = call.direction === "inbound"; // the customer called
    ui.answer.hidden = !ringing || inbound;
    ui.decline.hidden = !ringing || inbound;
    ui.hangup.hidden = !(live || inbound) || call.state === "ended";
    if (call.state === "queued") ui.status.textContent = t("call_waiting");
    else if (ringing && inbound) ui.status.textContent = t("call_agent_ringing");
    else if (ringing) ui.status.textContent = t("call_ringing");
    else if (call.state === "on_hold") ui.status.textContent = t("call_on_hold");
    else if (call.state === "connected") {
      const audio = peer && peer.pc.connectionState === "connected";
      ui.status.textContent = audio ? t("call_connected", { time: clockText() }) : t("call_connecting");
    } else ui.status.textContent = t("call_ended");
  }

  function update(view) {
    if (!view) return;
    // Events read again after a reload may be older than the snapshot: keep the newest view.
    if (call && view.call_id === call.call_id && view.version < call.version) return;
    const previous = call ? call.state : null;
    call = view;
    clearTimeout(hideTimer);
    if (view.state === "queued") closePeer(); // sent to a queue: the agent's audio is gone
    if (view.state === "ringing" || view.state === "queued") {
      if (previous !== view.state) tone(view.direction === "inbound" ? "ringback" : "ring");
    } else if (view.state === "on_hold") {
      tone("hold");
    } else {
      silence();
    }
    if ((view.state === "connected" || view.state === "on_hold") && !since) since = Date.now();
    if (view.state === "connected" && !clock) clock = setInterval(render, 1000);
    if (view.state === "ended") {
      teardown();
      since = null;
      hideTimer = setTimeout(() => {
        call = null;
        render();
      }, ENDED_SHOWN_MS);
    }
    render();
  }

  // A reloaded widget finds its call going on: it asks the agent's desktop for a new offer.
  function restore(view) {
    if (!view) return;
    update(view);
    notBefore = view.at || 0;
    if (view.state === "connected" || view.state === "on_hold") {
      send({ type: "call_signal", call_id: view.call_id, kind: "renegotiate", peer: `w${Date.now()}`, data: null });
    }
  }

  async function handleSignal(payload) {
    if (!call || payload.call_id !== call.call_id) return;
    if (payload.at && payload.at < notBefore) return; // meant for the page this one replaced
    try {
      if (payload.kind === "offer") await answerOffer(payload.peer, payload.data);
      else if (payload.kind === "ice" && peer && payload.peer === peer.id) await peer.addCandidates(payload.data);
    } catch (error) {
      showError(error.message);
    }
    render();
  }

  function signal(payload) {
    signals = signals.then(() => handleSignal(payload));
  }

  ui.answer.addEventListener("click", async () => {
    showError("");
    try {
      await microphone();
    } catch (error) {
      showError(error.message);
      return; // not answered: the agent sees it ring until the customer allows the microphone
    }
    silence();
    send({ type: "call_answer", call_id: call.call_id });
  });
  ui.decline.addEventListener("click", () => {
    silence();
    send({ type: "call_decline", call_id: call.call_id });
  });
  ui.hangup.addEventListener("click", () => send({ type: "call_hangup", call_id: call.call_id }));
  ui.mute.addEventListener("click", () => {
    muted = !muted;
    applyMute();
  });

  // "Call us": the microphone first (a refusal is said here and nothing is asked of the server).
  async function request(sendRequest) {
    showError("");
    try {
      await microphone();
    } catch (error) {
      showError(error.message);
      if (!call) {
        for (const button of [ui.answer, ui.decline, ui.mute, ui.hangup]) button.hidden = true;
        ui.notice.hidden = true;
        ui.status.textContent = "";
        root.hidden = false;
      }
      return false;
    }
    sendRequest();
    return true;
  }

  function live() {
    return Boolean(call && call.state !== "ended");
  }

  return { update, restore, signal, request, live };
}

// One WebRTC connection of a web call, for either side (the agent's softphone, the customer's
// widget): our microphone out, the other side's audio in; ICE candidates leave in small batches
// through `signal(kind, data)`; the other side's candidates wait until its description is set.
// `holdCandidates`: ours wait until `descriptionSent()` (signals that travel by separate requests
// could otherwise overtake the offer they belong to).
const ICE_BATCH_MS = 50;

export class CallPeer {
  constructor({ id, iceServers, stream, onTrack, onState, signal, holdCandidates = false }) {
    this.id = id;
    this.signal = signal;
    this.sending = !holdCandidates;
    this.remoteSet = false;
    this.pending = [];
    this.outgoing = [];
    this.timer = null;
    this.closed = false;
    this.pc = new RTCPeerConnection({ iceServers: iceServers || [] });
    for (const track of stream.getAudioTracks()) this.pc.addTrack(track, stream);
    this.pc.addEventListener("track", (event) => onTrack(event.streams[0]));
    this.pc.addEventListener("connectionstatechange", () => onState(this.pc.connectionState));
    this.pc.addEventListener("icecandidate", (event) => {
      if (!event.candidate || this.closed) return;
      this.outgoing.push(event.candidate.toJSON());
      if (!this.timer) this.timer = setTimeout(() => this.flush(), ICE_BATCH_MS);
    });
  }

  descriptionSent() {
    this.sending = true;
    this.flush();
  }

  flush() {
    this.timer = null;
    if (!this.outgoing.length || this.closed || !this.sending) return;
    const batch = this.outgoing;
    this.outgoing = [];
    this.signal("ice", batch);
  }

  async offer() {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    return { type: offer.type, sdp: offer.sdp };
  }

  async answer(description) {
    await this.setRemote(description);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { type: answer.type, sdp: answer.sdp };
  }

  async setRemote(description) {
    await this.pc.setRemoteDescription(description);
    this.remoteSet = true;
    const held = this.pending;
    this.pending = [];
    await this.addCandidates(held);
  }

  async addCandidates(candidates) {
    for (const candidate of candidates || []) {
      if (this.remoteSet) await this.pc.addIceCandidate(candidate).catch(() => {});
      else this.pending.push(candidate);
    }
  }

  // Our audio out: a track, or none (on hold: no packets at all).
  send(track) {
    for (const sender of this.pc.getSenders()) {
      if (!sender.track || sender.track.kind === "audio") sender.replaceTrack(track).catch(() => {});
    }
  }

  dtmf(keys) {
    const sender = this.pc.getSenders().find((s) => s.dtmf);
    if (sender && sender.dtmf.canInsertDTMF) sender.dtmf.insertDTMF(keys);
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    this.pc.close();
  }
}

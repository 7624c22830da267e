// The tones of a call, made in the page (no audio file to fetch): the customer's widget rings
// (ring), an agent's desktop rings for a call coming in (incoming), a caller waiting hears the
// ringback, a customer on hold a soft beep. Returns the function that stops it.
const PATTERNS = {
  ring: { frequency: 480, gain: 0.08, beep: 0.8, every: 2000 },
  incoming: { frequency: 520, gain: 0.08, beep: 0.6, every: 2000 },
  ringback: { frequency: 440, gain: 0.08, beep: 0.8, every: 2000 },
  hold: { frequency: 350, gain: 0.03, beep: 0.3, every: 4000 },
};

export function playTone(name) {
  const pattern = PATTERNS[name];
  const AudioCtx = window.AudioContext || window.webkitAudioContext;
  if (!pattern || !AudioCtx) return () => {};
  const context = new AudioCtx();
  const beep = () => {
    const oscillator = context.createOscillator();
    const gain = context.createGain();
    oscillator.frequency.value = pattern.frequency;
    gain.gain.value = pattern.gain;
    oscillator.connect(gain).connect(context.destination);
    oscillator.start();
    oscillator.stop(context.currentTime + pattern.beep);
  };
  beep();
  const timer = setInterval(beep, pattern.every);
  return () => {
    clearInterval(timer);
    context.close().catch(() => {});
  };
}

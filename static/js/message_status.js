// A message's delivery status only moves up this ladder (as on the server, STATUS_RANK): a status
// event applied late, after a newer one or a fresher render, must not move a row back.
const RANK = { received: 0, queued: 0, sending: 1, sent: 2, delivered: 3, undelivered: 3, failed: 3, read: 4 };

export function statusMovesForward(shown, next) {
  if (!shown || !(shown in RANK)) return true;
  return (RANK[next] ?? 0) > RANK[shown];
}

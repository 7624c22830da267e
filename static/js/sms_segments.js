// SMS segments: GSM-7 160 chars (153 per part when split), otherwise UCS-2 70 (67 per part).
const GSM7 =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENDED = "^{}\\[~]|€\f";
export function smsSegments(text) {
  let gsmLength = 0;
  let gsm = true;
  for (const char of text) {
    if (GSM7.includes(char)) gsmLength += 1;
    else if (GSM7_EXTENDED.includes(char)) gsmLength += 2;
    else gsm = false;
  }
  if (gsm) {
    return { encoding: "GSM-7", length: gsmLength, segments: gsmLength <= 160 ? 1 : Math.ceil(gsmLength / 153) };
  }
  const units = [...text].reduce((n, char) => n + (char.codePointAt(0) > 0xffff ? 2 : 1), 0);
  return { encoding: "UCS-2", length: units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

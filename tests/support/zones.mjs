// A fixed-offset IANA zone in which it is now between 10:00 and 18:59, so tests that send can
// run at any hour without quiet hours refusing them. (`Etc/GMT-3` is UTC+3: the sign is inverted.)
export function daytimeZone() {
  const hour = new Date().getUTCHours();
  for (let offset = -12; offset <= 14; offset++) {
    const local = (((hour + offset) % 24) + 24) % 24;
    if (local >= 10 && local <= 18) return offset === 0 ? "Etc/GMT" : `Etc/GMT${offset > 0 ? "-" : "+"}${Math.abs(offset)}`;
  }
  throw new Error("no daytime zone");
}

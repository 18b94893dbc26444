// A live handoff to a person (event `handoff {status, engineer?}`): the header says who
// the visitor is talking to, and no typing dots are shown while a person has the
// conversation (they answer when they answer).
import { setTyping } from "./status.js";

/** Draw the handoff's status: "waiting", "live", "ended" or "timed_out". */
export function showHandoff(widget, data) {
  const { config, state, ui } = widget;
  const status = data?.status;
  state.handoff = status === "waiting" || status === "live" || status === "requested";
  ui.root.classList.toggle("ca-is-handoff", state.handoff);
  setTyping(widget, false);
  if (status === "live" && typeof data.engineer === "string" && data.engineer) {
    state.handoffLine = `You're talking to ${data.engineer}`;
  } else if (state.handoff) {
    state.handoffLine = "Waiting for a person from our team\u2026";
  } else {
    state.handoffLine = "";
  }
  ui.statusLine.textContent = state.handoffLine || config.subtitle;
}

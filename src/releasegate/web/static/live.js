// Follow a running deployment: on each event of its stream, fetch the page's live part
// again and swap it in. Without JavaScript the page is complete as served.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) { return; }
  var pending = false;
  function refresh() {
    if (pending) { return; }
    pending = true;
    fetch(live.dataset.fragment, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        pending = false;
        // keep what someone is typing in a note: skip the swap while a field has focus
        var active = document.activeElement;
        if (html !== null && !(active && live.contains(active) && active.tagName === "INPUT")) {
          live.innerHTML = html;
        }
      })
      .catch(function () { pending = false; });
  }
  var stream = new EventSource(live.dataset.stream);
  stream.onmessage = refresh;
  ["step.started", "step.succeeded", "step.failed", "step.warned", "step.skipped",
   "confirmation.recorded", "approval.recorded", "deployment.succeeded", "deployment.failed",
   "deployment.started", "lock.released"].forEach(function (type) {
    stream.addEventListener(type, refresh);
  });
  stream.addEventListener("end", function () { stream.close(); refresh(); });
})();

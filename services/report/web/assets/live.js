// live.js adds each contribution of the live feed (GET api/v1/live, server-sent events) to the
// table the live page rendered, newest first. It is the one script of Giveback's pages.
"use strict";
(function () {
  var table = document.getElementById("live");
  var status = document.getElementById("live-status");
  if (!table || !status || !window.EventSource) {
    return;
  }
  var body = table.tBodies[0];
  var people = table.dataset.people === "true";
  var maxRows = 200;

  function cell(row, text, cls) {
    var td = row.insertCell(-1);
    td.textContent = text;
    if (cls) {
      td.className = cls;
    }
  }

  function add(c) {
    var row = body.insertRow(0);
    row.dataset.seq = String(c.seq);
    row.className = "arrived";
    cell(row, c.occurred_at.slice(0, 16).replace("T", " "));
    cell(row, c.kind);
    cell(row, c.repo ? c.repo + (c.number ? "#" + c.number : "") : "—");
    cell(row, c.destination);
    cell(row, c.team || "");
    if (people) {
      cell(row, c.login || "");
    }
    cell(row, c.title || "", "title");
    while (body.rows.length > maxRows) {
      body.deleteRow(-1);
    }
    var empty = document.getElementById("live-empty");
    if (empty) {
      empty.remove();
    }
  }

  function say(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  var source = new EventSource("api/v1/live?after=" + encodeURIComponent(table.dataset.after || "0"));
  var received = 0;
  source.addEventListener("open", function () {
    say("live", received ? "live · " + received + " new" : "live");
  });
  source.addEventListener("contribution", function (e) {
    add(JSON.parse(e.data));
    received++;
    say("live", "live · " + received + " new");
  });
  source.addEventListener("dropped", function (e) {
    say("dropped", JSON.parse(e.data).error + "; reconnecting");
  });
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      say("error", "disconnected; reload the page");
    } else {
      say("error", "reconnecting");
    }
  });
})();

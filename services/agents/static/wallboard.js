// The supervisor's wallboard: a tile per queue that turns amber and red at the
// thresholds set below it, the last hour's waiting and service level, and the agents.
(function () {
  "use strict";
  var t = omni.t, api = omni.api;
  var COLORS = ["#1f6f43", "#1f5fa8", "#a4161a", "#7b2cbf", "#b5651d", "#2a9d8f"];
  var saved = JSON.parse(localStorage.getItem("omniroute-thresholds") || "null");
  var thresholds = saved || { amber: 60, red: 180 };
  var el = function (id) { return document.getElementById(id); };

  omni.signIn(["supervisor", "admin"], function () {
    el("wallboard").hidden = false;
    var form = el("thresholds");
    form.elements.amber.value = thresholds.amber;
    form.elements.red.value = thresholds.red;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      thresholds = { amber: Number(form.elements.amber.value), red: Number(form.elements.red.value) };
      localStorage.setItem("omniroute-thresholds", JSON.stringify(thresholds));
      refresh();
    });
    every(3000, refresh);
    every(10000, chart);
  });

  // Again `ms` after the last one finished: a slow server never gets requests piled up.
  function every(ms, work) {
    work().catch(function () {}).then(function () { setTimeout(function () { every(ms, work); }, ms); });
  }

  // Amber or red by the longest wait, and by a service level below its target.
  function level(q) {
    var longest = q.longest_wait_s || 0, sl = q.service_level.last_15_min;
    var below = sl !== null && sl * 100 < q.service_level_target_pct;
    if (longest >= thresholds.red) return "red";
    if (longest >= thresholds.amber || below || q.ewt_status === "unstable") return "amber";
    return "ok";
  }

  function refresh() {
    return Promise.all([
      api("GET", "/v1/queues").then(function (page) { page.items.forEach(tile); }),
      api("GET", "/v1/agents").then(agents),
      api("GET", "/v1/cx/summary").then(today),
    ]);
  }

  // The day's CSAT and NPS (with the number of answers) and the bot's containment.
  function today(summary) {
    var csat = summary.csat, nps = summary.nps, bot = summary.bot_containment;
    el("csat").textContent = csat.score === null ? "—" : omni.percent(csat.score) + " (" + csat.answers + ")";
    el("nps").textContent = nps.score === null ? "—" :
      Math.round(nps.score) + " · " + t("band." + nps.band) + " (" + (nps.promoters + nps.passives + nps.detractors) + ")";
    el("containment").textContent = bot.rate === null ? "—" : omni.percent(bot.rate) + " (" + bot.handled + ")";
  }

  function agents(page) {
    var body = el("agents");
    body.textContent = "";
    page.items.forEach(function (a) {
      var row = body.insertRow();
      var load = Object.keys(a.load).map(function (c) { return c + " " + a.load[c]; }).join(", ") || "0";
      var status = t("status." + a.status);
      if (a.status_reason) status += " (" + reasonText(a.status_reason) + ")";
      if (a.status === "away" && a.status_since) {
        status += " · " + omni.duration((Date.now() - new Date(a.status_since)) / 1000);
      }
      [a.name, status, load, omni.percent(a.occupancy)].forEach(function (text) {
        row.insertCell().textContent = text;
      });
    });
  }

  // The desk's reasons in the page's language; any other (the router's "missed 3 offers
  // in a row", an API client's own) as it was given.
  function reasonText(reason) {
    var key = "reason." + reason, word = t(key);
    return word === key ? reason : word;
  }

  function tile(q) {
    var id = "tile-" + q.queue_id, box = el(id);
    if (!box) {
      box = document.createElement("article");
      box.id = id;
      box.className = "tile";
      box.tabIndex = 0;
      el("tiles").appendChild(box);
    }
    var state = level(q);
    var ewt = q.ewt_s !== null ? omni.duration(q.ewt_s) : t(q.ewt_status === "estimated" ? "ewt" : q.ewt_status);
    var sl = omni.percent(q.service_level.last_15_min);
    box.dataset.level = state;
    box.setAttribute("aria-label", t("tile.label", {
      queue: q.name, waiting: q.waiting, longest: omni.duration(q.longest_wait_s), sl: sl, level: t("level." + state),
    }));
    box.innerHTML = "<h2></h2><p class='big' data-field='waiting'></p><dl></dl>";
    box.querySelector("h2").textContent = q.name;
    box.querySelector(".big").textContent = q.waiting + " " + t("waiting").toLowerCase();
    var rows = [
      [t("longest"), omni.duration(q.longest_wait_s)],
      [t("ewt"), ewt],
      [t("sl"), sl],
      [t("target", { pct: q.service_level_target_pct, s: q.service_level_target_s }), ""],
      [t("abandoned"), omni.percent(q.abandonment_rate)],
      [t("staff"), q.agents.available + " / " + q.agents.busy + " / " + q.agents.away],
    ];
    var list = box.querySelector("dl");
    rows.forEach(function (pair) {
      var term = document.createElement("dt"), value = document.createElement("dd");
      term.textContent = pair[0];
      value.textContent = pair[1];
      list.appendChild(term);
      list.appendChild(value);
    });
  }

  // Waiting (solid, left scale) and service level (dashed, 0-100%) per queue.
  function chart() {
    return api("GET", "/v1/queues").then(function (page) {
      return Promise.all(page.items.map(function (q) {
        return api("GET", "/v1/queues/" + q.queue_id + "/history?minutes=60").then(function (h) { return { queue: q, points: h.items }; });
      }));
    }).then(function (series) {
      var svg = document.querySelector("#chart svg"), most = 1;
      series.forEach(function (s) { s.points.forEach(function (p) { most = Math.max(most, p.waiting); }); });
      var lines = [], legend = [];
      series.forEach(function (s, n) {
        var color = COLORS[n % COLORS.length], last = s.points.length - 1;
        var x = function (i) { return (i / Math.max(1, last)) * 600; };
        var waiting = s.points.map(function (p, i) { return x(i) + "," + (155 - (p.waiting / most) * 145); });
        var level = s.points.filter(function (p) { return p.service_level !== null; })
          .map(function (p) { return x(s.points.indexOf(p)) + "," + (155 - p.service_level * 145); });
        lines.push('<polyline fill="none" stroke-width="2" stroke="' + color + '" points="' + waiting.join(" ") + '"/>');
        if (level.length) lines.push('<polyline fill="none" stroke-width="2" stroke-dasharray="5 4" stroke="' + color + '" points="' + level.join(" ") + '"/>');
        legend.push(s.queue.name + ": " + t("waiting") + " " + s.points[last].waiting + ", " + t("sl") + " " + omni.percent(s.points[last].service_level));
      });
      var scale = '<text x="4" y="14" font-size="11" fill="#4a5868">' + most + "</text>" +
        '<text x="596" y="14" font-size="11" fill="#4a5868" text-anchor="end">100%</text>' +
        '<line x1="0" y1="155" x2="600" y2="155" stroke="#c9d1da"/>';
      svg.innerHTML = "<title></title>" + scale + lines.join("");
      svg.querySelector("title").textContent = t("chart");
      el("legend").textContent = legend.join(" · ");
    });
  }
})();

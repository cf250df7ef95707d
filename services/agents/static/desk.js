// The agent desk: status, offers with a countdown, conversations, transcript, reply,
// transfer, close and the after-contact work. Live by long polling, like the API.
(function () {
  "use strict";
  var t = omni.t, api = omni.api;
  var CHANNELS = { chat: "Chat", email: "Email", whatsapp: "WhatsApp", messenger: "Messenger",
    instagram: "Instagram", telegram: "Telegram", twitter: "X" };
  var me = null, offer = null, openId = null, readingBack = false, pollToken = 0;
  var answered = {};  // offers accepted or declined here, still open until the router says
  var seen = {};  // conversation id -> messages the agent has seen
  var el = function (id) { return document.getElementById(id); };

  omni.signIn(["agent"], function (who) {
    me = who;
    el("desk").hidden = false;
    el("status").hidden = false;
    // Away says why when a reason is picked (the wallboard shows it); picking a reason
    // sets the agent away, or tells the router the new one.
    el("status").addEventListener("change", function (event) {
      if (event.target.id === "away-reason" && event.target.value) {
        el("status").querySelector('input[value="away"]').checked = true;
      }
      var status = el("status").querySelector("input:checked").value, reason = el("away-reason").value;
      var body = { status: status };
      if (status === "away" && reason) body.reason = reason;
      api("PUT", "/v1/agents/me/status", body);
    });
    loadTargets();
    pollOffers();
    (function again() { refreshList().then(function () { setTimeout(again, 3000); }); })();
    setInterval(function () { countdown(); wrapUpCountdown(); }, 1000);
  });

  function loadTargets() {
    Promise.all([api("GET", "/v1/queues"), api("GET", "/v1/agents")]).then(function (answers) {
      var select = el("transfer").elements.target;
      var queues = select.querySelector('[data-group="queues"]'), agents = select.querySelector('[data-group="agents"]');
      queues.label = t("queues");
      agents.label = t("agents");
      answers[0].items.forEach(function (q) { queues.appendChild(new Option(q.name, "queue:" + q.queue_id)); });
      answers[1].items.forEach(function (a) {
        if (a.agent_id !== me.agent_id) agents.appendChild(new Option(a.name + " (" + t("status." + a.status) + ")", "agent:" + a.agent_id));
      });
    });
  }

  // The long poll names the open offers this page has: it answers when they change (a new
  // one, or one accepted, declined, expired or withdrawn), so the page polls on at once.
  var known = [];
  function pollOffers() {
    api("GET", "/v1/agents/me/offers?wait=25&known=" + encodeURIComponent(known.join(",")))
      .then(function (page) {
        known = page.items.map(function (o) { return o.id; });
        var open = page.items.filter(function (o) { return !answered[o.id]; });
        showOffer(open[0] || null);
        setTimeout(pollOffers, 0);
      })
      .catch(function () { known = []; setTimeout(pollOffers, 3000); });
  }

  function showOffer(next) {
    var fresh = next && (!offer || offer.id !== next.id);
    offer = next;
    var panel = el("offer");
    panel.hidden = !offer;
    if (!offer) return;
    panel.querySelector(".queue").textContent = t("offer.queue", { queue: offer.queue_id });
    var who = panel.querySelector(".who");
    who.textContent = "";
    if (offer.channel) who.appendChild(channelTag(offer.channel));
    if (offer.customer) who.appendChild(document.createTextNode(customerName(offer)));
    if (offer.complexity) {
      who.appendChild(document.createTextNode(" · " + tierText(offer.complexity)));
    }
    panel.querySelector(".preview").textContent = offer.preview || "";
    panel.querySelector(".preview").hidden = !offer.preview;
    countdown();
    if (fresh) el("accept").focus();
  }

  function countdown() {
    if (!offer) return;
    var left = Math.max(0, Math.round((new Date(offer.expires_at) - Date.now()) / 1000));
    el("offer").querySelector(".countdown").textContent = t("offer.left", { s: left });
    if (left === 0) showOffer(null);
  }

  el("accept").addEventListener("click", function () {
    var taking = offer;
    answered[taking.id] = true;
    showOffer(null);
    api("POST", "/v1/offers/" + taking.id + "/accept")
      .then(function (conversation) { refreshList(); open(conversation.id || taking.conversation_id); })
      .catch(function (e) { notice(t("taken", { detail: e.message })); });
  });

  el("decline").addEventListener("click", function () {
    var declining = offer;
    answered[declining.id] = true;
    showOffer(null);
    api("POST", "/v1/offers/" + declining.id + "/decline");
  });

  // The agent's conversations with unread markers; resolves when drawn (or failed).
  function refreshList() {
    return api("GET", "/v1/agents/me/conversations").then(function (page) {
      return Promise.all(page.items.map(function (c) {
        return api("GET", "/v1/conversations/" + c.id + "/messages").then(function (m) { c.count = m.items.length; return c; });
      }));
    }).then(function (conversations) {
      var list = el("conversations");
      var working = conversations.filter(function (c) { return !c.wrap_up_until; });
      showWrapUps(conversations.filter(function (c) { return c.wrap_up_until; }));
      list.textContent = "";
      el("empty").hidden = working.length > 0;
      working.forEach(function (c) {
        if (c.id === openId) seen[c.id] = c.count;
        var unread = c.count - (seen[c.id] || 0);
        var item = document.createElement("li"), button = document.createElement("button");
        button.type = "button";
        button.setAttribute("aria-current", c.id === openId ? "true" : "false");
        var name = document.createElement("span");
        name.appendChild(channelTag(c.channel));
        name.appendChild(document.createTextNode(customerName(c)));
        button.appendChild(name);
        if (unread > 0) {
          var badge = document.createElement("span");
          badge.className = "badge";
          badge.textContent = t("unread", { n: unread });
          button.appendChild(badge);
        }
        button.addEventListener("click", function () { open(c.id); });
        item.appendChild(button);
        list.appendChild(item);
      });
      // The conversation on view left the agent (transferred, say): close it, unless it
      // is one read back (closed, or the customer's earlier one), which is in no list.
      if (openId && !readingBack && !conversations.some(function (c) { return c.id === openId; })) closeView();
    }).catch(function () {});
  }

  // Closed conversations whose after-contact work still holds a slot: the router offers
  // that slot again when the queue's wrap-up time ends or the agent says Done.
  function showWrapUps(wrapping) {
    var list = el("wrapup-list");
    list.textContent = "";
    el("wrapups").hidden = wrapping.length === 0;
    wrapping.forEach(function (c) {
      // The name opens the transcript, to read back while wrapping up.
      var item = document.createElement("li"), name = document.createElement("button");
      name.type = "button";
      name.setAttribute("aria-current", c.id === openId ? "true" : "false");
      name.appendChild(channelTag(c.channel));
      name.appendChild(document.createTextNode(customerName(c)));
      name.addEventListener("click", function () { open(c.id); });
      var left = document.createElement("span");
      left.className = "meta";
      left.dataset.until = c.wrap_up_until;
      var done = document.createElement("button");
      done.type = "button";
      done.textContent = t("wrapup.done");
      done.setAttribute("aria-label", t("wrapup.done.label", { who: customerName(c) }));
      done.addEventListener("click", function () {
        done.disabled = true;
        api("POST", "/v1/conversations/" + c.id + "/wrap-up/end")
          .then(function () { item.remove(); el("wrapups").hidden = !list.children.length; })
          .catch(function (e) { done.disabled = false; notice(e.message); });
      });
      item.appendChild(name);
      item.appendChild(left);
      item.appendChild(done);
      list.appendChild(item);
    });
    wrapUpCountdown();
  }

  function wrapUpCountdown() {
    el("wrapup-list").querySelectorAll("[data-until]").forEach(function (span) {
      var left = Math.max(0, (new Date(span.dataset.until) - Date.now()) / 1000);
      span.textContent = t("wrapup.left", { time: omni.duration(left) });
    });
  }

  function customerName(c) {
    var who = c.customer;
    return who.name || who.handle || who.email || who.phone || "#" + who.id.slice(-6);
  }

  function tierText(complexity) {
    return t("tier", { tier: complexity.tier, score: complexity.score.toFixed(2) });
  }

  function channelTag(channel) {
    var tag = document.createElement("span");
    tag.className = "channel";
    tag.textContent = CHANNELS[channel] || channel;
    return tag;
  }

  // `failed`: why another conversation did not open; the view comes back to this one.
  function open(id, failed) {
    var previous = failed === undefined ? openId : null;
    openId = id;
    // Until the answer says whether the agent holds it: a list refresh in between must not
    // close the view it is opening (a conversation read back is in no list).
    readingBack = true;
    var token = ++pollToken;
    api("GET", "/v1/conversations/" + id).then(function (c) {
      if (token !== pollToken) return;
      el("conversation").hidden = false;
      var held = c.state === "assigned";  // a closed one is for reading back only
      readingBack = !held;
      el("reply").hidden = !held;
      el("conversation").querySelector(".actions").hidden = !held;
      var title = el("conversation-title");
      title.textContent = "";
      title.appendChild(channelTag(c.channel));
      title.appendChild(document.createTextNode(customerName(c)));
      var about = [];
      if (c.complexity) {
        about.push(tierText(c.complexity));
        if (c.complexity.intents.length) about.push(t("intents", { intents: c.complexity.intents.join(", ") }));
        if (c.complexity.reasons.length) about.push(c.complexity.reasons.join("; "));
      }
      c.history.forEach(function (line) {
        var reason = line.detail.reason || "";
        if (line.type === "ConversationQueued" && reason.indexOf("bot escalated") === 0) {
          about.push(t("escalated", { reason: reason.replace("bot escalated: ", "") }));
        }
        if (line.type === "ConversationTransferred" && line.detail.note) {
          about.push(t("transfer.noted", { agent: line.detail.from_agent_id || "—", note: line.detail.note }));
        }
      });
      el("about").textContent = about.join(" · ");
      showEarlier(c.earlier);
      el("transcript").textContent = "";
      c.messages.forEach(show);
      seen[id] = c.messages.length;
      notice(failed || "");
      refreshList();
      follow(id, token, c.messages.length ? c.messages[c.messages.length - 1].id : null);
    }).catch(function (e) {
      if (token !== pollToken) return;
      // The view still shows the conversation open before: back to it, so that a reply,
      // a transfer or a close goes where the agent sees it going.
      if (previous) { open(previous, e.message); } else { closeView(); notice(e.message); }
    });
  }

  // The customer's earlier conversations, newest first: each opens to read back.
  function showEarlier(earlier) {
    var line = el("earlier");
    line.textContent = "";
    line.hidden = !earlier.length;
    if (!earlier.length) return;
    line.appendChild(document.createTextNode(t("earlier")));
    earlier.forEach(function (e) {
      var link = document.createElement("button");
      link.type = "button";
      link.className = "link";
      link.textContent = [new Date(e.opened_at).toLocaleDateString(), CHANNELS[e.channel] || e.channel,
        e.disposition || e.state].join(" · ") + (e.agent_id ? " (" + e.agent_id + ")" : "");
      link.addEventListener("click", function () { open(e.id); });
      line.appendChild(link);
    });
  }

  function follow(id, token, after) {
    var query = "?wait=25" + (after ? "&after=" + encodeURIComponent(after) : "");
    api("GET", "/v1/conversations/" + id + "/messages" + query).then(function (page) {
      if (token !== pollToken) return;
      page.items.forEach(function (m) { show(m); after = m.id; });
      seen[id] = (seen[id] || 0) + page.items.length;
      follow(id, token, after);
    }).catch(function () { if (token === pollToken) setTimeout(function () { follow(id, token, after); }, 3000); });
  }

  function show(message) {
    var item = document.createElement("li"), who = document.createElement("span");
    item.dataset.sender = message.sender;
    who.className = "who";
    who.textContent = t("sender." + message.sender) + " · " + new Date(message.at).toLocaleTimeString();
    item.appendChild(who);
    item.appendChild(document.createTextNode(message.text));
    el("transcript").appendChild(item);
    el("transcript").scrollTop = el("transcript").scrollHeight;
  }

  function closeView() {
    openId = null;
    readingBack = false;
    pollToken++;
    el("conversation").hidden = true;
  }

  function notice(text) { el("notice").textContent = text; }

  // One key per reply written: sent again unchanged after a failure (which may have hidden
  // its success), it reaches the customer once. Edited, it is a new reply.
  var replyKey = null;
  function newReplyKey() {
    return crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }
  el("reply").elements.text.addEventListener("input", function () { replyKey = null; });
  el("reply").addEventListener("submit", function (event) {
    event.preventDefault();
    var box = event.target.elements.text;
    replyKey = replyKey || newReplyKey();
    api("POST", "/v1/conversations/" + openId + "/messages", { text: box.value }, { "Idempotency-Key": replyKey })
      .then(function () { box.value = ""; replyKey = null; })
      .catch(function (e) { notice(e.message); });
  });

  el("transfer").addEventListener("submit", function (event) {
    event.preventDefault();
    var target = event.target.elements.target.value.split(":");
    var body = target[0] === "queue" ? { queue_id: target[1] } : { agent_id: target[1] };
    var noteField = event.target.elements.note, note = noteField.value.trim();
    if (note) body.note = note;
    api("POST", "/v1/conversations/" + openId + "/transfer", body)
      .then(function () { noteField.value = ""; closeView(); refreshList(); notice(t("transferred")); })
      .catch(function (e) { notice(e.message); });
  });

  el("close").addEventListener("submit", function (event) {
    event.preventDefault();
    api("POST", "/v1/conversations/" + openId + "/close", { disposition: event.target.elements.disposition.value })
      .then(function () { closeView(); setTimeout(refreshList, 500); notice(t("closed")); })
      .catch(function (e) { notice(e.message); });
  });
})();

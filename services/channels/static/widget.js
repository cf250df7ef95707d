// omniroute web chat widget: <script src="/chat/widget.js" data-widget-key="..."></script>
// Plain JavaScript, no build step. Keeps the session in localStorage, long-polls replies.
(function () {
  "use strict";
  var script = document.currentScript;
  var origin = new URL(script.src).origin;
  var base = origin + "/chat/v1";
  // Place in line and expected wait come from the agents service (same origin unless set).
  var agents = script.getAttribute("data-agents-url") || origin;
  var widgetKey = script.getAttribute("data-widget-key") || null;
  var spanish = (navigator.language || "en").toLowerCase().indexOf("es") === 0;
  var t = spanish
    ? { title: "Atención al cliente", placeholder: "Escribe tu mensaje…", send: "Enviar", end: "Terminar chat", error: "No se pudo enviar. Reintentando…",
        place: "Eres el número {n} en la cola", minutes: ", espera aprox. {m} min", soon: ", te atenderán enseguida" }
    : { title: "Customer support", placeholder: "Type your message…", send: "Send", end: "End chat", error: "Could not send. Retrying…",
        place: "You are number {n} in line", minutes: ", about {m} min", soon: ", someone will be with you shortly" };
  var stored = JSON.parse(localStorage.getItem("omniroute-chat") || "null");
  var after = null;
  var generation = 0; // a new one when the chat ends: answers to the old one are dropped

  var box = document.createElement("section");
  box.setAttribute("aria-label", t.title);
  box.style.cssText = "position:fixed;bottom:16px;right:16px;width:320px;font:14px system-ui,sans-serif;" +
    "border:1px solid #ccd;border-radius:8px;background:#fff;box-shadow:0 4px 16px rgba(0,0,0,.15)";
  box.innerHTML =
    '<div style="display:flex;align-items:center;background:#234;border-radius:8px 8px 0 0">' +
    '<h2 style="flex:1;margin:0;padding:8px 12px;font-size:15px;color:#fff"></h2>' +
    '<button type="button" hidden style="margin:4px 8px;font-size:12px"></button></div>' +
    '<ol aria-live="polite" style="list-style:none;margin:0;padding:8px;height:240px;overflow-y:auto"></ol>' +
    '<p role="status" hidden style="margin:0;padding:4px 12px;font-size:12px;color:#345;background:#f4f6fa"></p>' +
    '<form style="display:flex;gap:4px;padding:8px"><label style="flex:1">' +
    '<span style="position:absolute;left:-9999px"></span><input required style="width:100%;box-sizing:border-box" maxlength="5000"></label>' +
    "<button></button></form>";
  box.querySelector("h2").textContent = t.title;
  var list = box.querySelector("ol");
  var status = box.querySelector("p");
  var input = box.querySelector("input");
  box.querySelector("label span").textContent = t.placeholder;
  input.placeholder = t.placeholder;
  box.querySelector("form button").textContent = t.send;
  var end = box.querySelector("div button");
  end.textContent = t.end;
  end.hidden = !stored;
  document.body.appendChild(box);

  // Ending the chat takes a conversation still waiting out of the queue; the next
  // message starts a new session.
  end.addEventListener("click", function () {
    if (!stored) return;
    request("POST", "/sessions/" + stored.session_id + "/leave").catch(function () {});
    stored = null;
    after = null;
    generation++;
    localStorage.removeItem("omniroute-chat");
    list.textContent = "";
    status.hidden = true;
    end.hidden = true;
  });

  function show(line) {
    var item = document.createElement("li");
    item.dataset.author = line.author;
    item.textContent = line.text;
    item.style.cssText = "margin:4px 0;padding:6px 8px;border-radius:6px;max-width:85%;" +
      (line.author === "customer" ? "margin-left:auto;background:#def" : "background:#eee");
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  function request(method, path, body) {
    return fetch(base + path, {
      method: method,
      headers: Object.assign({ "Content-Type": "application/json" },
        stored ? { Authorization: "Bearer " + stored.token } : {}),
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    });
  }

  function session() {
    if (stored) return Promise.resolve(stored);
    return request("POST", "/sessions", { widget_key: widgetKey, language: spanish ? "es" : "en" })
      .then(function (created) {
        stored = created;
        end.hidden = false;
        localStorage.setItem("omniroute-chat", JSON.stringify(created));
        poll();
        return created;
      });
  }

  function showWait() {
    var mine = generation;
    fetch(agents + "/v1/public/chat/" + stored.session_id + "/wait")
      .then(function (response) { return response.ok ? response.json() : { waiting: false }; })
      .then(function (wait) {
        if (mine !== generation) return;
        status.hidden = !wait.waiting;
        if (!wait.waiting) return;
        var minutes = wait.ewt_s == null ? null : Math.ceil(wait.ewt_s / 60);
        status.textContent = t.place.replace("{n}", wait.position) +
          (minutes == null ? "" : minutes <= 1 ? t.soon : t.minutes.replace("{m}", minutes));
      })
      .catch(function () { status.hidden = true; });
  }

  function poll() {
    if (!stored) return;
    var mine = generation;
    showWait();
    // A short poll while waiting in line keeps the place fresh; a long one otherwise.
    var query = "?wait=" + (status.hidden ? 25 : 10) + (after ? "&after=" + encodeURIComponent(after) : "");
    request("GET", "/sessions/" + stored.session_id + "/messages" + query)
      .then(function (page) {
        if (mine !== generation) return;
        page.messages.forEach(function (line) { after = line.id; show(line); });
        poll();
      })
      .catch(function () { if (mine === generation) setTimeout(poll, 3000); });
  }

  box.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    session()
      .then(function (s) { return request("POST", "/sessions/" + s.session_id + "/messages", { text: text }); })
      .catch(function () { show({ author: "system", text: t.error }); });
  });

  poll();
})();

// Shared by the agent desk and the wallboard: language, the API key, requests, sign-in.
// Plain JavaScript served as is: no build step.
var omni = (function () {
  "use strict";
  var spanish = (navigator.language || "en").toLowerCase().indexOf("es") === 0;
  var words = {
    en: {
      "key": "API key", "signin": "Sign in", "signout": "Sign out",
      "signin.role": "This page needs a {role} key.", "signin.bad": "That key was not accepted.",
      "desk.title": "Agent desk", "status": "Status", "status.available": "Available",
      "status.away": "Away", "status.offline": "Offline", "away.reason": "Reason",
      "reason.break": "break", "reason.lunch": "lunch", "reason.meeting": "meeting", "reason.training": "training",
      "offer.title": "New conversation", "offer.queue": "Queue: {queue}", "offer.left": "{s} s left to accept",
      "accept": "Accept", "decline": "Decline", "mine": "My conversations", "none": "No conversations yet.",
      "unread": "{n} new", "reply": "Reply", "send": "Send", "transfer": "Transfer to", "transfer.go": "Transfer",
      "queues": "Queues", "agents": "Agents", "close": "Close", "disposition": "Disposition",
      "d.resolved": "Resolved", "d.no_response": "No response", "d.spam": "Spam", "d.other": "Other",
      "tier": "Complexity: {tier} ({score})", "intents": "Intents: {intents}", "escalated": "Escalated by the bot: {reason}",
      "transfer.note": "Note for the next agent", "transfer.noted": "Transferred by {agent}: {note}",
      "sender.customer": "Customer", "sender.agent": "Agent", "sender.bot": "Bot", "sender.system": "System",
      "transferred": "Transferred.", "closed": "Closed.", "taken": "Too late: {detail}",
      "earlier": "Earlier:", "wrapup.title": "After-contact work", "wrapup.left": "{time} left", "wrapup.done": "Done",
      "wrapup.done.label": "Done with the after-contact work for {who}",
      "wall.title": "Wallboard", "waiting": "Waiting", "longest": "Longest wait", "ewt": "Expected wait",
      "sl": "Service level (15 min)", "target": "Target: {pct}% within {s} s", "staff": "Available / busy / away",
      "abandoned": "Abandoned today",
      "unstable": "unstable", "unstaffed": "no agents", "chart": "Waiting and service level, last hour",
      "thresholds": "Alert thresholds", "amber": "Amber after (s of longest wait)",
      "red": "Red after (s of longest wait)", "save": "Save", "name": "Name", "load": "Load", "occupancy": "Occupancy",
      "tile.label": "{queue}: {waiting} waiting, longest {longest}, service level {sl}, state {level}",
      "level.ok": "normal", "level.amber": "amber", "level.red": "red", "today": "Today",
      "containment": "Bot containment", "band.needs work": "needs work", "band.good": "good",
      "band.excellent": "excellent", "band.world class": "world class",
    },
    es: {
      "key": "Clave de API", "signin": "Entrar", "signout": "Salir",
      "signin.role": "Esta página necesita una clave de {role}.", "signin.bad": "La clave no es válida.",
      "desk.title": "Escritorio del agente", "status": "Estado", "status.available": "Disponible",
      "status.away": "Ausente", "status.offline": "Desconectado", "away.reason": "Motivo",
      "reason.break": "descanso", "reason.lunch": "comida", "reason.meeting": "reunión", "reason.training": "formación",
      "offer.title": "Nueva conversación", "offer.queue": "Cola: {queue}", "offer.left": "Quedan {s} s para aceptar",
      "accept": "Aceptar", "decline": "Rechazar", "mine": "Mis conversaciones", "none": "Aún no hay conversaciones.",
      "unread": "{n} nuevos", "reply": "Respuesta", "send": "Enviar", "transfer": "Transferir a", "transfer.go": "Transferir",
      "queues": "Colas", "agents": "Agentes", "close": "Cerrar", "disposition": "Resultado",
      "d.resolved": "Resuelto", "d.no_response": "Sin respuesta", "d.spam": "Spam", "d.other": "Otro",
      "tier": "Complejidad: {tier} ({score})", "intents": "Intenciones: {intents}", "escalated": "Escalado por el bot: {reason}",
      "transfer.note": "Nota para quien lo reciba", "transfer.noted": "Transferido por {agent}: {note}",
      "sender.customer": "Cliente", "sender.agent": "Agente", "sender.bot": "Bot", "sender.system": "Sistema",
      "transferred": "Transferida.", "closed": "Cerrada.", "taken": "Demasiado tarde: {detail}",
      "earlier": "Antes:", "wrapup.title": "Trabajo posterior", "wrapup.left": "quedan {time}", "wrapup.done": "Terminado",
      "wrapup.done.label": "Trabajo posterior con {who} terminado",
      "wall.title": "Panel de colas", "waiting": "En espera", "longest": "Espera más larga", "ewt": "Espera estimada",
      "sl": "Nivel de servicio (15 min)", "target": "Objetivo: {pct}% en {s} s", "staff": "Disponibles / ocupados / ausentes",
      "abandoned": "Abandonos hoy",
      "unstable": "inestable", "unstaffed": "sin agentes", "chart": "En espera y nivel de servicio, última hora",
      "thresholds": "Umbrales de alerta", "amber": "Ámbar tras (s de espera más larga)",
      "red": "Rojo tras (s de espera más larga)", "save": "Guardar", "name": "Nombre", "load": "Carga", "occupancy": "Ocupación",
      "tile.label": "{queue}: {waiting} en espera, la más larga {longest}, nivel de servicio {sl}, estado {level}",
      "level.ok": "normal", "level.amber": "ámbar", "level.red": "rojo", "today": "Hoy",
      "containment": "Resueltas por el bot", "band.needs work": "a mejorar", "band.good": "bueno",
      "band.excellent": "excelente", "band.world class": "de primera",
    },
  };
  var lang = spanish ? "es" : "en";
  document.documentElement.lang = lang;

  function t(key, values) {
    var text = words[lang][key] || words.en[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.replace("{" + name + "}", values[name]); });
    return text;
  }

  function translate(root) {
    root.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = t(el.dataset.t); });
    root.querySelectorAll("[data-t-label]").forEach(function (el) { el.setAttribute("aria-label", t(el.dataset.tLabel)); });
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    var s = Math.round(seconds);
    return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
  }

  function percent(share) { return share === null || share === undefined ? "—" : Math.round(share * 100) + "%"; }

  function key() { return sessionStorage.getItem("omniroute-key"); }

  // `headers` adds to the usual ones (an Idempotency-Key).
  function api(method, path, body, headers) {
    return fetch(path, {
      method: method,
      headers: Object.assign({ "Content-Type": "application/json", Authorization: "Bearer " + key() }, headers),
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      if (response.status === 401) { signOut(); }
      return response.text().then(function (text) {
        var data = text ? JSON.parse(text) : null;
        if (!response.ok) {
          var error = new Error((data && data.detail) || response.statusText);
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function signOut() {
    sessionStorage.removeItem("omniroute-key");
    location.reload();
  }

  // Shows the sign-in form until a key of one of `roles` is given; then calls start(me).
  function signIn(roles, start) {
    var form = document.getElementById("signin");
    var error = form.querySelector(".error");
    document.getElementById("signout").addEventListener("click", signOut);
    function check() {
      return api("GET", "/v1/me").then(function (me) {
        if (roles.indexOf(me.role) < 0) throw new Error(t("signin.role", { role: roles[0] }));
        form.hidden = true;
        document.getElementById("signout").hidden = false;
        start(me);
      });
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sessionStorage.setItem("omniroute-key", form.elements.key.value.trim());
      check().catch(function (e) {
        sessionStorage.removeItem("omniroute-key");
        error.textContent = e.status === 401 ? t("signin.bad") : e.message;
      });
    });
    if (key()) check().catch(function () { sessionStorage.removeItem("omniroute-key"); form.hidden = false; });
    else form.hidden = false;
  }

  translate(document);
  return { t: t, api: api, signIn: signIn, duration: duration, percent: percent, translate: translate };
})();

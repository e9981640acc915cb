"use strict";
// The sandbox chat page: a person picks a persona and chats with the bot through the control API.

const api = (path, options = {}) =>
  fetch(`/sandbox/api/${path}`, options).then(async (response) => {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  });
const postJson = (path, body) =>
  api(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

const state = { persona: null, chatId: null, seq: 0, polling: 0, renderedKey: "" };
const $ = (id) => document.getElementById(id);

// ---- safe rendering of Telegram HTML --------------------------------------------------------
const ALLOWED = new Set(["B", "STRONG", "I", "EM", "U", "INS", "S", "STRIKE", "DEL", "CODE", "PRE",
  "A", "BLOCKQUOTE", "SPAN", "TG-SPOILER", "BR"]);

function sanitize(html) {
  const source = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html").body;
  const out = document.createDocumentFragment();
  const copy = (node, target) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        target.appendChild(document.createTextNode(child.textContent));
      } else if (child.nodeType === Node.ELEMENT_NODE) {
        if (!ALLOWED.has(child.tagName)) { copy(child, target); continue; }
        let element;
        if (child.tagName === "A") {
          element = document.createElement("a");
          const href = child.getAttribute("href") || "";
          if (/^(https?:|tg:)/i.test(href)) { element.href = href; element.target = "_blank"; element.rel = "noopener"; }
        } else if (child.tagName === "TG-SPOILER" || (child.tagName === "SPAN" && child.classList.contains("tg-spoiler"))) {
          element = document.createElement("span");
          element.className = "spoiler";
          element.addEventListener("click", () => element.classList.add("open"));
        } else if (child.tagName === "SPAN") {
          copy(child, target); continue;
        } else {
          element = document.createElement(child.tagName.toLowerCase());
        }
        copy(child, element);
        target.appendChild(element);
      }
    }
  };
  copy(source, out);
  return out;
}

// ---- personas ---------------------------------------------------------------------------------
async function loadPersonas() {
  const { users } = await api("users");
  const list = $("persona-list");
  list.replaceChildren();
  for (const user of users) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${user.first_name}${user.last_name ? " " + user.last_name : ""} · ${user.language_code || "?"} · id ${user.id}`;
    button.addEventListener("click", () => choosePersona(user));
    item.appendChild(button);
    list.appendChild(item);
  }
  return users;
}

async function choosePersona(user) {
  state.persona = user;
  localStorage.setItem("auylnet.persona", String(user.id));
  $("persona-panel").hidden = true;
  $("chat-subtitle").textContent = `as ${user.first_name} (${user.language_code || "?"})`;
  await loadChats(user.id);
}

async function loadChats(userId) {
  const { chats } = await api(`chats?user_id=${userId}`);
  const select = $("chat-select");
  select.replaceChildren();
  for (const chat of chats) {
    const option = document.createElement("option");
    option.value = String(chat.id);
    option.textContent = chat.type === "private" ? "🤖 Bot" : `👥 ${chat.title}`;
    select.appendChild(option);
  }
  await openChat(userId);
}

async function openChat(chatId) {
  state.chatId = Number(chatId);
  $("chat-select").value = String(chatId);
  state.renderedKey = "";
  await refresh();
  listen();
}

// ---- messages -----------------------------------------------------------------------------------
function time(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

function renderMessage(message) {
  const wrapper = document.createElement("div");
  const mine = !message.from_bot && message.from && state.persona && message.from.id === state.persona.id;
  wrapper.className = `message ${message.from_bot ? "bot" : mine ? "me" : "bot"}`;
  wrapper.dataset.messageId = String(message.message_id);
  const bubble = document.createElement("div");
  bubble.className = "bubble";
  if (!message.from_bot && !mine && message.from) {
    const who = document.createElement("strong");
    who.textContent = message.from.first_name + "\n";
    bubble.appendChild(who);
  }
  if (message.photo) {
    const image = document.createElement("img");
    image.alt = "photo";
    image.src = message.file_url || `/sandbox/files/${message.photo[message.photo.length - 1].file_id}`;
    bubble.appendChild(image);
  }
  if (message.document) {
    const link = document.createElement("a");
    link.href = message.file_url || `/sandbox/files/${message.document.file_id}`;
    link.download = message.document.file_name || "file";
    link.textContent = `📄 ${message.document.file_name || "file"}`;
    bubble.appendChild(link);
    bubble.appendChild(document.createTextNode("\n"));
  }
  if (message.location) {
    const card = document.createElement("div");
    card.className = "location-card";
    card.textContent = `📍 ${message.location.latitude.toFixed(4)}, ${message.location.longitude.toFixed(4)}`;
    bubble.appendChild(card);
  }
  if (message.contact) {
    bubble.appendChild(document.createTextNode(`☎️ ${message.contact.phone_number}`));
  }
  if (message.text_html) {
    bubble.appendChild(message.from_bot ? sanitize(message.text_html) : document.createTextNode(message.text || message.caption || ""));
  }
  const meta = document.createElement("span");
  meta.className = "meta";
  meta.textContent = `${message.edited ? "edited · " : ""}${time(message.edit_date || message.date)}`;
  bubble.appendChild(meta);
  wrapper.appendChild(bubble);

  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows && rows.length) {
    const keyboard = document.createElement("div");
    keyboard.className = "inline-keyboard";
    for (const row of rows) {
      const line = document.createElement("div");
      line.className = "inline-row";
      for (const button of row) {
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = button.text;
        if (button.url) element.addEventListener("click", () => window.open(button.url, "_blank", "noopener"));
        else element.addEventListener("click", () => press(message.message_id, button.callback_data));
        line.appendChild(element);
      }
      keyboard.appendChild(line);
    }
    wrapper.appendChild(keyboard);
  }
  return wrapper;
}

function renderReplyKeyboard(markup) {
  const box = $("reply-keyboard");
  box.replaceChildren();
  if (!markup || !markup.keyboard) { box.hidden = true; return; }
  for (const row of markup.keyboard) {
    const line = document.createElement("div");
    line.className = "row";
    for (const key of row) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = typeof key === "string" ? key : key.text;
      button.addEventListener("click", () => tapReplyKey(key));
      line.appendChild(button);
    }
    box.appendChild(line);
  }
  box.hidden = false;
}

async function refresh() {
  if (state.chatId === null) return;
  const { messages, reply_keyboard: replyKeyboard } = await api(`chats/${state.chatId}/messages`);
  const key = JSON.stringify([messages, replyKeyboard]);
  if (key === state.renderedKey) return;
  state.renderedKey = key;
  const list = $("messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  list.replaceChildren(...messages.map(renderMessage));
  if (!messages.length) {
    const hint = document.createElement("p");
    hint.className = "empty";
    hint.textContent = "Send /start to begin.";
    list.appendChild(hint);
  }
  renderReplyKeyboard(replyKeyboard);
  if (atBottom || messages.length < 3) list.scrollTop = list.scrollHeight;
}

async function listen() {
  const ticket = ++state.polling;
  while (ticket === state.polling) {
    try {
      const { events, last_seq: last } = await api(`events?after=${state.seq}&timeout=25&chat_id=${state.chatId}`);
      state.seq = last;
      if (events.length) await refresh();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

// ---- acting ------------------------------------------------------------------------------------------
function toast(text, alert) {
  if (!text) return;
  if (alert) { window.alert(text); return; }
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 2500);
}

async function sendJson(extra) {
  if (!state.persona) { $("persona-panel").hidden = false; return; }
  try {
    await postJson("send", { user_id: state.persona.id, chat_id: state.chatId, ...extra });
    await refresh();
  } catch (error) { toast(`Not sent: ${error.message}`); }
}

async function press(messageId, data) {
  try {
    const pressed = await postJson("press", {
      user_id: state.persona.id, chat_id: state.chatId, message_id: messageId, callback_data: data,
    });
    const answer = await api(`callback_answers/${pressed.callback_query_id}?wait=5`);
    if (answer.answered) toast(answer.text, answer.show_alert);
  } catch (error) { toast(`Button failed: ${error.message}`); }
}

function tapReplyKey(key) {
  if (typeof key === "object" && key.request_location) {
    const form = $("location-form");
    sendJson({ location: { latitude: Number(form.latitude.value), longitude: Number(form.longitude.value) } });
  } else if (typeof key === "object" && key.request_contact) {
    sendJson({ contact: { phone_number: "+77010000000", first_name: state.persona.first_name } });
  } else {
    sendJson({ text: typeof key === "string" ? key : key.text });
  }
}

async function sendFile(part, file) {
  const form = new FormData();
  form.append("user_id", String(state.persona.id));
  form.append("chat_id", String(state.chatId));
  form.append(part, file, file.name);
  try {
    await api("send", { method: "POST", body: form });
    await refresh();
  } catch (error) { toast(`Not sent: ${error.message}`); }
}

async function showCommands() {
  const language = (state.persona && state.persona.language_code) || "";
  const { commands } = await api(`commands?language_code=${language}&chat_id=${state.chatId}`);
  const menu = $("attach-menu");
  menu.replaceChildren();
  for (const command of commands) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `/${command.command} — ${command.description}`;
    button.addEventListener("click", () => { menu.hidden = true; sendJson({ text: `/${command.command}` }); });
    menu.appendChild(button);
  }
  if (!commands.length) menu.textContent = "No commands yet.";
}

function wire() {
  $("composer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    sendJson({ text });
  });
  $("persona-button").addEventListener("click", async () => {
    $("persona-panel").hidden = !$("persona-panel").hidden;
    await loadPersonas();
  });
  $("persona-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { first_name: form.first_name.value.trim(), language_code: form.language_code.value };
    if (form.id.value) body.id = Number(form.id.value);
    const user = await postJson("users", body);
    form.reset();
    await loadPersonas();
    await choosePersona(user);
  });
  $("chat-select").addEventListener("change", (event) => openChat(event.target.value));
  $("attach-button").addEventListener("click", () => {
    const menu = $("attach-menu");
    if (menu.hidden) {
      menu.replaceChildren(...["photo", "document", "location", "commands"].map((kind) => {
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.attach = kind;
        button.textContent = { photo: "🖼 Photo", document: "📄 Document", location: "📍 Location", commands: "/ Commands" }[kind];
        return button;
      }));
    }
    menu.hidden = !menu.hidden;
  });
  $("attach-menu").addEventListener("click", (event) => {
    const kind = event.target.dataset && event.target.dataset.attach;
    if (!kind) return;
    if (kind === "photo") $("photo-input").click();
    if (kind === "document") $("document-input").click();
    if (kind === "location") { $("location-form").hidden = !$("location-form").hidden; $("attach-menu").hidden = true; }
    if (kind === "commands") showCommands();
  });
  $("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target;
    form.hidden = true;
    sendJson({ location: { latitude: Number(form.latitude.value), longitude: Number(form.longitude.value) } });
  });
  $("photo-input").addEventListener("change", (event) => {
    if (event.target.files[0]) sendFile("photo", event.target.files[0]);
    event.target.value = ""; $("attach-menu").hidden = true;
  });
  $("document-input").addEventListener("change", (event) => {
    if (event.target.files[0]) sendFile("document", event.target.files[0]);
    event.target.value = ""; $("attach-menu").hidden = true;
  });
}

async function boot() {
  wire();
  const users = await loadPersonas();
  const wanted = new URLSearchParams(location.search).get("user") || localStorage.getItem("auylnet.persona");
  const persona = users.find((user) => String(user.id) === String(wanted));
  if (persona) await choosePersona(persona);
  else $("persona-panel").hidden = false;
}

boot();

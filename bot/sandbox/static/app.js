"use strict";
// The sandbox chat page: a persona chats with the bot through the sandbox's control API.

const PERSONA_KEY = "auylnet.sandbox.persona";
const POLL_SECONDS = 25;
const CHAT_LIST_REFRESH_MS = 15000;
const PRESS_GIVE_UP_MS = 15000;
const BOT_RETRY_MS = 2000;
// Within this many pixels of the end the list follows new messages; further up, a hint appears.
const PINNED_PX = 80;
// Messages the person pressed a button on within this long are shown whole when they grow.
const PRESSED_RECENTLY_MS = 20000;
const START_PAYLOAD = /^[A-Za-z0-9_-]{1,64}$/;
// The bot says Almaty time, so the page shows it too, whatever the browser's zone.
const CLOCK = almatyClock();

const state = {
  persona: null,
  chats: [],
  chat: null,
  seq: 0,
  listener: null,
  messages: new Map(),
  replyKeyboard: null,
  keyboardOpen: true,
  commands: null,
  pendingPresses: new Map(),
  earlyAnswers: new Map(),
  chatsCheckedAt: 0,
  botName: "",
  botUsername: "",
  pinned: true,
  pressedAt: new Map(),
};

const $ = (id) => document.getElementById(id);

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function icon(name) {
  const holder = document.createElement("span");
  holder.innerHTML = `<svg aria-hidden="true"><use href="#i-${name}"/></svg>`;
  return holder.firstElementChild;
}

async function api(path, { method = "GET", json, form, signal } = {}) {
  const init = { method, signal };
  if (json !== undefined) {
    init.headers = { "Content-Type": "application/json" };
    init.body = JSON.stringify(json);
  } else if (form) {
    init.body = form;
  }
  const response = await fetch(`/sandbox/api/${path}`, init);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(body.error || body.description || `${response.status} ${response.statusText}`);
  }
  return body;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- Telegram HTML, rendered safely -----------------------------------------------------------
// Only the tags Telegram itself accepts survive; anything else is unwrapped to its text, and
// attributes are never copied except a link target that passed the scheme check.

const FORMAT_TAGS = new Map([
  ["B", "b"], ["STRONG", "b"], ["I", "i"], ["EM", "i"], ["U", "u"], ["INS", "u"],
  ["S", "s"], ["STRIKE", "s"], ["DEL", "s"], ["CODE", "code"], ["PRE", "pre"],
  ["BLOCKQUOTE", "blockquote"],
]);
const LINK_SCHEMES = /^(https?|tg):/i;

function safeHref(raw) {
  const href = (raw || "").trim();
  if (!LINK_SCHEMES.test(href)) return null;
  try {
    return new URL(href).href;
  } catch {
    return null;
  }
}

function telegramHtml(html) {
  const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, "text/html");
  const fragment = document.createDocumentFragment();
  copyAllowed(parsed.body, fragment);
  return fragment;
}

function copyAllowed(source, target) {
  for (const node of source.childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      target.append(node.data);
      continue;
    }
    if (node.nodeType !== Node.ELEMENT_NODE) continue;
    const copy = allowedElement(node);
    if (copy) {
      copyAllowed(node, copy);
      target.append(copy);
    } else {
      copyAllowed(node, target);
    }
  }
}

function allowedElement(node) {
  const tag = node.tagName;
  if (FORMAT_TAGS.has(tag)) return document.createElement(FORMAT_TAGS.get(tag));
  if (tag === "A") {
    const href = safeHref(node.getAttribute("href"));
    if (!href) return null;
    const link = document.createElement("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    return link;
  }
  if (tag === "TG-SPOILER" || (tag === "SPAN" && node.classList.contains("tg-spoiler"))) {
    const spoiler = element("span", "spoiler");
    spoiler.title = "Tap to reveal";
    spoiler.addEventListener("click", () => spoiler.classList.add("revealed"), { once: true });
    return spoiler;
  }
  return null;
}

// ---- the bot ------------------------------------------------------------------------------------

async function loadBot() {
  try {
    const { bot } = await api("bot");
    if (bot) {
      state.botName = bot.first_name || state.botName;
      state.botUsername = bot.username || "";
      paintHeader();
      paintChatOptions();
      return true;
    }
  } catch {
    // the sandbox is not reachable yet; the caller tries again
  }
  return false;
}

async function waitForBot() {
  while (!(await loadBot())) await sleep(BOT_RETRY_MS);
}

// ---- personas and chats -----------------------------------------------------------------------

function fullName(user) {
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

function avatarColour(id) {
  const hues = [205, 145, 25, 280, 340, 170, 45];
  return `hsl(${hues[Math.abs(Number(id)) % hues.length]} 55% 52%)`;
}

function paintAvatar(node, name, id) {
  node.textContent = (name || "?").trim().charAt(0).toUpperCase() || "?";
  node.style.background = avatarColour(id);
}

async function loadPersonas() {
  const { users } = await api("users");
  const list = $("persona-list");
  list.replaceChildren();
  if (!users.length) list.append(element("li", "hint", "No personas yet: create the first one below."));
  for (const user of users) {
    const item = element("li");
    const button = element("button", "persona");
    button.type = "button";
    button.dataset.userId = String(user.id);
    if (state.persona && state.persona.id === user.id) button.classList.add("current");
    const avatar = element("span", "avatar small");
    paintAvatar(avatar, user.first_name, user.id);
    const label = element("span", "persona-label");
    label.append(element("strong", "", fullName(user)));
    label.append(element("small", "", `${user.language_code || "no language"} · id ${user.id}`));
    button.append(avatar, label);
    button.addEventListener("click", () => choosePersona(user));
    item.append(button);
    list.append(item);
  }
  return users;
}

async function openPersonas() {
  $("persona-panel").hidden = false;
  closeMenus();
  try {
    await loadPersonas();
  } catch (error) {
    toast(`Sandbox not reachable: ${error.message}`);
  }
}

async function choosePersona(user) {
  state.persona = user;
  localStorage.setItem(PERSONA_KEY, String(user.id));
  const url = new URL(window.location.href);
  url.searchParams.set("user", String(user.id));
  history.replaceState(null, "", url);
  $("persona-panel").hidden = true;
  state.commands = null;
  await loadChats();
  const privateChat = state.chats.find((chat) => chat.id === user.id) || state.chats[0];
  if (privateChat) await openChat(privateChat.id);
}

async function loadChats() {
  state.chatsCheckedAt = Date.now();
  let chats = [];
  try {
    ({ chats } = await api(`chats?user_id=${state.persona.id}`));
  } catch {
    chats = [{ id: state.persona.id, type: "private", first_name: state.persona.first_name }];
  }
  chats.sort((a, b) => (a.type === "private" ? -1 : b.type === "private" ? 1 : 0));
  const unchanged = JSON.stringify(chats) === JSON.stringify(state.chats);
  state.chats = chats;
  if (unchanged) return;
  paintChatOptions();
}

function chatName(chat) {
  if (chat.type === "private") return state.botName || "Bot";
  return chat.title || `${chat.type === "channel" ? "Channel" : "Group"} ${chat.id}`;
}

function paintChatOptions() {
  const select = $("chat-select");
  select.replaceChildren();
  for (const chat of state.chats) {
    const option = element("option", "", chatName(chat));
    option.value = String(chat.id);
    select.append(option);
  }
  select.hidden = state.chats.length < 2;
  $("chat-switch").hidden = select.hidden;
  if (state.chat) select.value = String(state.chat.id);
}

function isGroup() {
  return Boolean(state.chat && state.chat.type !== "private");
}

function paintHeader() {
  const persona = state.persona;
  const title = state.chat ? chatName(state.chat) : state.botName || "Bot";
  $("chat-title").textContent = title;
  document.title = `${title} · sandbox chat`;
  paintAvatar($("chat-avatar"), title, isGroup() ? state.chat.id : 7);
  const who = persona ? `you are ${persona.first_name} (${persona.language_code || "?"})` : "choose a persona";
  const kind = isGroup() ? (state.chat.type === "channel" ? "channel" : "group") : "bot";
  $("chat-subtitle").textContent = `${kind} · ${who}`;
}

async function openChat(chatId) {
  const chat = state.chats.find((known) => known.id === Number(chatId)) || { id: Number(chatId), type: "private" };
  if (state.listener) state.listener.abort();
  const listener = new AbortController();
  state.listener = listener;
  state.chat = chat;
  state.messages.clear();
  state.replyKeyboard = null;
  $("chat-select").value = String(chat.id);
  $("messages").replaceChildren();
  closeMenus();
  paintHeader();

  let baseline = 0;
  let loaded = { messages: [] };
  try {
    const probe = await api(`events?after=0&timeout=0&chat_id=${chat.id}`, { signal: listener.signal });
    baseline = probe.last_seq ?? lastSeq(probe.events, 0);
    loaded = await api(`chats/${chat.id}/messages`, { signal: listener.signal });
  } catch (error) {
    if (listener.signal.aborted) return false;
    toast(`Could not load the chat: ${error.message}`);
  }
  if (listener.signal.aborted) return false;
  state.seq = baseline;
  for (const message of loaded.messages) upsertMessage(message);
  setReplyKeyboard(keyboardFrom(loaded, loaded.messages), { reopen: true });
  showEmptyState();
  scrollToEnd(true);
  listen(chat.id, listener);
  return true;
}

function lastSeq(events, fallback) {
  return (events || []).reduce((highest, event) => Math.max(highest, event.seq), fallback);
}

function keyboardFrom(body, messages) {
  if (body && "reply_keyboard" in body) return body.reply_keyboard;
  const withKeyboard = [...messages].reverse().find((message) => message.from_bot && message.reply_keyboard);
  return withKeyboard ? withKeyboard.reply_keyboard : state.replyKeyboard;
}

// ---- live updates -------------------------------------------------------------------------------

async function listen(chatId, listener) {
  let failures = 0;
  while (!listener.signal.aborted) {
    try {
      const body = await api(`events?after=${state.seq}&timeout=${POLL_SECONDS}&chat_id=${chatId}`, {
        signal: listener.signal,
      });
      if (listener.signal.aborted) return;
      if (failures) paintHeader();
      failures = 0;
      state.seq = lastSeq(body.events, state.seq);
      await applyEvents(body.events || []);
      if (Date.now() - state.chatsCheckedAt > CHAT_LIST_REFRESH_MS) loadChats();
    } catch {
      if (listener.signal.aborted) return;
      failures += 1;
      $("chat-subtitle").textContent = "connecting…";
      await sleep(Math.min(1000 * failures, 5000));
    }
  }
}

async function applyEvents(events) {
  let botSpoke = false;
  let arrived = false;
  const grown = [];
  for (const event of events) {
    if (event.kind === "message" || event.kind === "edit") {
      const known = state.messages.has(event.message.message_id);
      const before = messageHeight(event.message.message_id);
      upsertMessage(event.message);
      if (event.message.from_bot) botSpoke = true;
      if (!known) arrived = true;
      else if (messageHeight(event.message.message_id) > before + 1) grown.push(event.message.message_id);
    } else if (event.kind === "delete") {
      removeMessage(event.message_id);
    } else if (event.kind === "callback_answer" && event.callback_answer) {
      callbackAnswered(event.callback_answer);
    }
  }
  if (botSpoke) await syncReplyKeyboard();
  showEmptyState();
  revealChanges(arrived, grown);
}

async function syncReplyKeyboard() {
  const newest = Math.max(0, ...state.messages.keys());
  try {
    const body = await api(`chats/${state.chat.id}/messages?after=${newest}`);
    for (const message of body.messages) upsertMessage(message);
    setReplyKeyboard(keyboardFrom(body, [...state.messages.values()]), { reopen: true });
  } catch {
    setReplyKeyboard(keyboardFrom(null, [...state.messages.values()]), { reopen: true });
  }
}

// ---- messages -----------------------------------------------------------------------------------

function isMine(message) {
  return !message.from_bot && message.from && state.persona && message.from.id === state.persona.id;
}

function messageNode(messageId) {
  return $("messages").querySelector(`[data-message-id="${Number(messageId)}"]`);
}

function messageHeight(messageId) {
  const node = messageNode(messageId);
  return node ? node.getBoundingClientRect().height : 0;
}

function upsertMessage(message) {
  if (message.from_bot && message.from && message.from.first_name && state.botName !== message.from.first_name) {
    state.botName = message.from.first_name;
    paintHeader();
  }
  state.messages.set(message.message_id, message);
  const list = $("messages");
  const fresh = renderMessage(message);
  const existing = list.querySelector(`[data-message-id="${message.message_id}"]`);
  if (existing) {
    existing.replaceWith(fresh);
    return;
  }
  const later = [...list.querySelectorAll("[data-message-id]")].find(
    (node) => Number(node.dataset.messageId) > message.message_id,
  );
  list.insertBefore(fresh, later || null);
}

function removeMessage(messageId) {
  state.messages.delete(Number(messageId));
  const node = $("messages").querySelector(`[data-message-id="${Number(messageId)}"]`);
  if (node) node.remove();
}

function emptyText() {
  if (!isGroup()) return "No messages yet.";
  return state.chat.type === "channel" ? "No posts in this channel yet." : "No messages in this group yet.";
}

function showEmptyState() {
  const list = $("messages");
  const empty = list.querySelector(".empty");
  if (state.messages.size) {
    if (empty) empty.remove();
    return;
  }
  if (empty) return;
  const card = element("div", "empty");
  card.append(element("p", "", emptyText()));
  if (!isGroup()) {
    const start = element("button", "primary start-button", "START");
    start.type = "button";
    start.addEventListener("click", () => sendMessage({ text: "/start" }));
    card.append(start);
  }
  list.append(card);
}

function almatyClock() {
  try {
    return new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Almaty",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
  } catch {
    return null; // a browser without time zone data: Almaty is UTC+5 all year
  }
}

function clockTime(seconds) {
  const date = new Date(seconds * 1000);
  if (CLOCK) return CLOCK.format(date);
  const almaty = new Date(date.getTime() + 5 * 3600 * 1000);
  const pad = (n) => String(n).padStart(2, "0");
  return `${pad(almaty.getUTCHours())}:${pad(almaty.getUTCMinutes())}`;
}

function fileUrl(fileId) {
  return `/sandbox/files/${encodeURIComponent(fileId)}`;
}

function humanSize(bytes) {
  if (!bytes && bytes !== 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function messageBody(message) {
  const body = message.text_html
    ? telegramHtml(message.text_html)
    : document.createTextNode(message.text || message.caption || "");
  const holder = document.createDocumentFragment();
  holder.append(body);
  linkify(holder);
  return holder;
}

// ---- links and commands in texts ----------------------------------------------------------------
// As a Telegram app does: web links and /commands in a text are tappable; a link to this bot's
// chat with a start parameter opens it as "/start <payload>" instead of leaving the page.

const AUTO_LINK = new RegExp(
  [
    String.raw`((?:https?:\/\/|(?<![\p{L}\p{N}_.@\/-])(?:www\.)?(?:t|telegram)\.me\/)[^\s<>"«»]*[^\s<>"«».,;:!?)\]'])`,
    String.raw`((?<![\p{L}\p{N}_.@\/-])\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\p{L}\p{N}_@\/]))`,
  ].join("|"),
  "gu",
);

function linkify(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement || !node.parentElement.closest("a, code, pre")) texts.push(node);
  }
  for (const node of texts) {
    const text = node.data;
    const pieces = [];
    let last = 0;
    for (const match of text.matchAll(AUTO_LINK)) {
      if (match.index > last) pieces.push(text.slice(last, match.index));
      pieces.push(match[1] ? webLink(match[1]) : commandLink(match[2]));
      last = match.index + match[0].length;
    }
    if (!pieces.length) continue;
    if (last < text.length) pieces.push(text.slice(last));
    node.replaceWith(...pieces);
  }
}

function webLink(text) {
  const href = safeHref(/^https?:/i.test(text) ? text : `https://${text}`);
  if (!href) return text;
  const link = element("a", "", text);
  link.href = href;
  link.target = "_blank";
  link.rel = "noopener noreferrer";
  return link;
}

function commandLink(command) {
  const link = element("a", "bot-command", command);
  link.href = "#";
  link.dataset.command = command;
  return link;
}

function botStartLink(href) {
  // t.me/<bot>?start=<payload>, telegram.me/…, or tg://resolve?domain=<bot>&start=<payload>
  if (!state.botUsername) return null;
  let url;
  try {
    url = new URL(href);
  } catch {
    return null;
  }
  let username = "";
  if (url.protocol === "tg:") {
    if (url.hostname !== "resolve" && !url.pathname.startsWith("//resolve")) return null;
    username = url.searchParams.get("domain") || "";
  } else if (/^(https?):$/.test(url.protocol) && /^(www\.)?(t|telegram)\.me$/i.test(url.hostname)) {
    username = url.pathname.split("/")[1] || "";
  } else {
    return null;
  }
  if (username.toLowerCase() !== state.botUsername.toLowerCase()) return null;
  const payload = url.searchParams.get("start");
  return { payload: payload && START_PAYLOAD.test(payload) ? payload : null };
}

async function openBotStart({ payload }) {
  if (!state.persona) {
    openPersonas();
    return;
  }
  if (!state.chat || state.chat.id !== state.persona.id) {
    if (!(await openChat(state.persona.id))) return;
  }
  // A bare link only opens the chat, as on Telegram; with a payload it starts the bot with it.
  if (payload) await sendMessage({ text: `/start ${payload}` });
}

function sendCommand(command) {
  const addressed = isGroup() && !command.includes("@") && state.botUsername;
  sendMessage({ text: addressed ? `${command}@${state.botUsername}` : command });
}

function onMessagesClick(event) {
  closeMenus();
  const command = event.target.closest("a.bot-command");
  if (command) {
    event.preventDefault();
    sendCommand(command.dataset.command);
    return;
  }
  const link = event.target.closest("a[href]");
  const start = link && botStartLink(link.href);
  if (start) {
    event.preventDefault();
    openBotStart(start);
  }
}

// ---- rendering ----------------------------------------------------------------------------------

function serviceText(message) {
  const actor = message.from ? fullName(message.from) : "Someone";
  if (message.new_chat_members) {
    return `${actor} added ${message.new_chat_members.map(fullName).join(", ")}`;
  }
  const left = message.left_chat_member;
  return left.id === (message.from && message.from.id) ? `${actor} left` : `${actor} removed ${fullName(left)}`;
}

function renderMessage(message) {
  if (message.new_chat_members || message.left_chat_member) {
    const row = element("div", "service", serviceText(message));
    row.dataset.messageId = String(message.message_id);
    return row;
  }
  const mine = isMine(message);
  const row = element("div", `message ${mine ? "out" : "in"}`);
  row.dataset.messageId = String(message.message_id);
  const bubble = element("div", "bubble");
  row.append(bubble);

  if (isGroup() && !mine && (message.from || message.sender_chat)) {
    const author = message.from || message.sender_chat;
    const sender = element("div", "sender", message.from ? fullName(author) : author.title || "");
    sender.style.color = avatarColour(author.id);
    bubble.append(sender);
  }
  if (message.reply_to_message) {
    const quoted = message.reply_to_message;
    const quote = element("div", "reply-quote");
    quote.append(element("strong", "", quoted.from ? fullName(quoted.from) : ""));
    quote.append(element("span", "", quoted.text || quoted.caption || (quoted.photo ? "Photo" : "Message")));
    bubble.append(quote);
  }
  if (message.photo && message.photo.length) {
    const largest = message.photo[message.photo.length - 1];
    const image = element("img", "photo");
    image.alt = message.caption || "Photo";
    image.src = message.file_url || fileUrl(largest.file_id);
    image.width = largest.width;
    image.height = largest.height;
    bubble.append(image);
    bubble.classList.add("has-media");
    row.classList.add("has-media");
  }
  if (message.sticker) {
    bubble.append(element("div", "sticker", message.sticker.emoji || "Sticker"));
    bubble.classList.add("has-sticker");
  }
  if (message.document) {
    const doc = message.document;
    const link = element("a", "document");
    link.href = message.file_url || fileUrl(doc.file_id);
    link.download = doc.file_name || "file";
    const badge = element("span", "document-icon");
    badge.append(icon("file"));
    const label = element("span", "document-label");
    label.append(element("strong", "", doc.file_name || "file"));
    label.append(element("small", "", [humanSize(doc.file_size), doc.mime_type].filter(Boolean).join(" · ")));
    link.append(badge, label);
    bubble.append(link);
  }
  if (message.location) {
    const { latitude, longitude } = message.location;
    bubble.append(element("div", "location-card", `📍 ${latitude.toFixed(4)}, ${longitude.toFixed(4)}`));
  }
  if (message.contact) {
    const contact = message.contact;
    bubble.append(element("div", "contact-card", `☎ ${fullName(contact)} · ${contact.phone_number}`));
  }
  if (message.text_html || message.text || message.caption) {
    const text = element("div", "text");
    text.append(messageBody(message));
    bubble.append(text);
  } else if (bubble.childElementCount === 0) {
    bubble.append(element("div", "text unsupported", "Unsupported message"));
  }
  const meta = element("span", "meta");
  if (message.edited || message.edit_date) meta.append(element("span", "edited", "edited"));
  meta.append(document.createTextNode(clockTime(message.edit_date || message.date)));
  bubble.append(meta);

  const rows = message.reply_markup && message.reply_markup.inline_keyboard;
  if (rows && rows.length) row.append(inlineKeyboard(message, rows));
  return row;
}

function inlineKeyboard(message, rows) {
  const keyboard = element("div", "inline-keyboard");
  for (const row of rows) {
    const line = element("div", "inline-row");
    for (const button of row) line.append(inlineButton(message, button));
    keyboard.append(line);
  }
  return keyboard;
}

function buttonLabel(node, text) {
  // One line, cut with "…" as Telegram's apps cut it, so a label too long for a phone shows here too.
  node.append(element("span", "label", text));
  node.title = text;
  return node;
}

function inlineButton(message, button) {
  if (button.url) {
    const href = safeHref(button.url);
    const link = buttonLabel(element("a", "inline-button link"), button.text);
    if (href) {
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
    }
    return link;
  }
  const node = buttonLabel(element("button", "inline-button"), button.text);
  node.type = "button";
  if (button.callback_data !== undefined) {
    node.addEventListener("click", () => press(message.message_id, button.callback_data, node));
  } else if (button.copy_text) {
    node.addEventListener("click", async () => {
      await navigator.clipboard.writeText(button.copy_text.text).catch(() => {});
      toast("Copied");
    });
  } else {
    node.disabled = true;
    node.title = "This kind of button does nothing in the sandbox";
  }
  return node;
}

// ---- following the conversation -----------------------------------------------------------------
// The list stays at its end while the person is there ("pinned"); once they scroll up, what arrives
// does not pull them down: a small hint offers the way back instead.

function distanceFromEnd() {
  const list = $("messages");
  return list.scrollHeight - list.scrollTop - list.clientHeight;
}

function scrollToEnd(force) {
  const list = $("messages");
  if (!force && !state.pinned) return;
  list.scrollTop = list.scrollHeight;
  state.pinned = true;
  $("new-hint").hidden = true;
}

function revealChanges(arrived, grown) {
  if (!arrived && !grown.length) return;
  if (state.pinned) {
    scrollToEnd(true);
    return;
  }
  // A message the person has just pressed a button on is shown whole when it grows.
  const pressed = grown.find((id) => Date.now() - (state.pressedAt.get(id) || 0) < PRESSED_RECENTLY_MS);
  if (pressed !== undefined && !arrived) {
    showWhole(messageNode(pressed));
    return;
  }
  $("new-hint").hidden = false;
}

function showWhole(node) {
  // Down to its last button: when the message is taller than the screen, its buttons matter most.
  if (!node) return;
  const list = $("messages");
  const below = node.getBoundingClientRect().bottom - list.getBoundingClientRect().bottom + 8;
  if (below > 0) list.scrollTop += below;
}

function followSizeChanges() {
  // Photos loading, a spoiler opened, the reply keyboard shown: stay at the end if pinned there.
  const observer = new ResizeObserver(() => {
    if (state.pinned) $("messages").scrollTop = $("messages").scrollHeight;
  });
  observer.observe($("messages"));
  new MutationObserver((changes) => {
    for (const change of changes) {
      for (const node of change.addedNodes) if (node.nodeType === Node.ELEMENT_NODE) observer.observe(node);
    }
  }).observe($("messages"), { childList: true });
  $("messages").addEventListener(
    "scroll",
    () => {
      state.pinned = distanceFromEnd() < PINNED_PX;
      if (state.pinned) $("new-hint").hidden = true;
    },
    { passive: true },
  );
  $("new-hint").addEventListener("click", () => scrollToEnd(true));
}

// ---- reply keyboard -----------------------------------------------------------------------------

function setReplyKeyboard(markup, { reopen } = {}) {
  const keyboard = markup && markup.keyboard ? markup : null;
  const changed = JSON.stringify(keyboard) !== JSON.stringify(state.replyKeyboard);
  state.replyKeyboard = keyboard;
  if (changed && reopen) state.keyboardOpen = true;
  $("text").placeholder = (keyboard && keyboard.input_field_placeholder) || "Message";
  paintReplyKeyboard();
}

function paintReplyKeyboard() {
  const box = $("reply-keyboard");
  const keyboard = state.replyKeyboard;
  $("keyboard-button").hidden = !keyboard;
  $("keyboard-button").classList.toggle("active", Boolean(keyboard && state.keyboardOpen));
  box.replaceChildren();
  box.hidden = !keyboard || !state.keyboardOpen;
  if (box.hidden) return;
  for (const row of keyboard.keyboard) {
    const line = element("div", "reply-row");
    for (const key of row) {
      const label = typeof key === "string" ? key : key.text;
      const button = buttonLabel(element("button", "reply-button"), label);
      button.type = "button";
      if (typeof key === "object" && (key.request_location || key.request_contact)) {
        button.prepend(icon(key.request_location ? "pin" : "person"));
      }
      button.addEventListener("click", () => tapReplyKey(key));
      line.append(button);
    }
    box.append(line);
  }
}

function tapReplyKey(key) {
  if (state.replyKeyboard && state.replyKeyboard.one_time_keyboard) {
    state.keyboardOpen = false;
    paintReplyKeyboard();
  }
  if (typeof key === "object" && key.request_location) {
    sendMessage({ location: villageLocation() });
  } else if (typeof key === "object" && key.request_contact) {
    sendMessage({ contact: { phone_number: personaPhone(), first_name: state.persona.first_name } });
  } else {
    sendMessage({ text: typeof key === "string" ? key : key.text });
  }
}

function villageLocation() {
  const form = $("location-form");
  return { latitude: Number(form.latitude.value), longitude: Number(form.longitude.value) };
}

function personaPhone() {
  return `+7701${String(Math.abs(state.persona.id) % 10000000).padStart(7, "0")}`;
}

// ---- acting as the persona ----------------------------------------------------------------------

async function sendMessage(payload) {
  if (!state.persona || !state.chat) {
    openPersonas();
    return false;
  }
  closeMenus();
  try {
    const { message } = await api("send", {
      method: "POST",
      json: { user_id: state.persona.id, chat_id: state.chat.id, ...payload },
    });
    if (message && !state.messages.has(message.message_id)) {
      upsertMessage({ ...message, from_bot: false });
      showEmptyState();
    }
    scrollToEnd(true);
    return true;
  } catch (error) {
    toast(`Not sent: ${error.message}`);
    return false;
  }
}

async function sendFile(part, file) {
  if (!state.persona || !state.chat) {
    openPersonas();
    return;
  }
  const form = new FormData();
  form.append("user_id", String(state.persona.id));
  form.append("chat_id", String(state.chat.id));
  const caption = $("text").value.trim();
  if (caption) form.append("caption", caption);
  form.append(part, file, file.name);
  closeMenus();
  try {
    const { message } = await api("send", { method: "POST", form });
    if (caption) $("text").value = "";
    if (message && !state.messages.has(message.message_id)) upsertMessage({ ...message, from_bot: false });
    showEmptyState();
    scrollToEnd(true);
  } catch (error) {
    toast(`Not sent: ${error.message}`);
  }
}

async function press(messageId, data, button) {
  state.pressedAt.set(messageId, Date.now());
  button.classList.add("busy");
  const done = () => button.classList.remove("busy");
  try {
    const { callback_query_id: queryId } = await api("press", {
      method: "POST",
      json: { user_id: state.persona.id, chat_id: state.chat.id, message_id: messageId, callback_data: data },
    });
    const early = state.earlyAnswers.get(queryId);
    state.earlyAnswers.delete(queryId);
    if (early) {
      done();
      showCallbackAnswer(early);
      return;
    }
    state.pendingPresses.set(queryId, done);
    setTimeout(() => {
      if (state.pendingPresses.delete(queryId)) done();
    }, PRESS_GIVE_UP_MS);
  } catch (error) {
    done();
    toast(`Button failed: ${error.message}`);
  }
}

function callbackAnswered(answer) {
  const done = state.pendingPresses.get(answer.callback_query_id);
  if (!done) {
    state.earlyAnswers.set(answer.callback_query_id, answer);
    return;
  }
  state.pendingPresses.delete(answer.callback_query_id);
  done();
  showCallbackAnswer(answer);
}

function showCallbackAnswer(answer) {
  if (!answer.text) return;
  if (answer.show_alert) showAlert(answer.text);
  else toast(answer.text);
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.hidden = true;
  }, 3000);
}

function showAlert(text) {
  const dialog = $("alert-dialog");
  $("alert-text").textContent = text;
  if (!dialog.open) dialog.showModal();
}

// ---- commands menu ------------------------------------------------------------------------------

async function loadCommands() {
  if (state.commands) return state.commands;
  const language = (state.persona && state.persona.language_code) || "";
  try {
    const { commands } = await api(
      `commands?language_code=${encodeURIComponent(language)}&chat_id=${state.chat ? state.chat.id : ""}`,
    );
    state.commands = commands;
  } catch {
    state.commands = [];
  }
  return state.commands;
}

async function showCommands(prefix = "") {
  const commands = await loadCommands();
  const menu = $("command-menu");
  menu.replaceChildren();
  const matching = commands.filter((command) => `/${command.command}`.startsWith(prefix || "/"));
  for (const command of matching) {
    const button = element("button", "command");
    button.type = "button";
    button.append(element("strong", "", `/${command.command}`), element("span", "", command.description));
    button.addEventListener("click", () => {
      $("text").value = "";
      sendMessage({ text: `/${command.command}` });
    });
    menu.append(button);
  }
  if (!matching.length) {
    if (prefix) {
      menu.hidden = true;
      return;
    }
    menu.append(element("p", "hint", "The bot has not set any commands."));
  }
  $("attach-menu").hidden = true;
  $("location-form").hidden = true;
  menu.hidden = false;
}

function closeMenus() {
  $("command-menu").hidden = true;
  $("attach-menu").hidden = true;
  $("location-form").hidden = true;
}

// ---- wiring -------------------------------------------------------------------------------------

function wire() {
  $("composer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $("text");
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    const sent = await sendMessage({ text });
    if (!sent && !input.value) input.value = text;
    input.focus();
  });
  $("text").addEventListener("input", () => {
    const value = $("text").value;
    if (/^\/[A-Za-z0-9_]*$/.test(value)) showCommands(value);
    else $("command-menu").hidden = true;
  });
  $("commands-button").addEventListener("click", () => {
    state.commands = null;
    if ($("command-menu").hidden) showCommands();
    else closeMenus();
  });
  $("attach-button").addEventListener("click", () => {
    const opening = $("attach-menu").hidden && $("location-form").hidden;
    closeMenus();
    $("attach-menu").hidden = !opening;
  });
  $("attach-menu").addEventListener("click", (event) => {
    const choice = event.target.closest("[data-attach]");
    if (!choice) return;
    const kind = choice.dataset.attach;
    if (kind === "photo") $("photo-input").click();
    if (kind === "document") $("document-input").click();
    if (kind === "location") {
      $("attach-menu").hidden = true;
      $("location-form").hidden = false;
      $("location-form").latitude.focus();
    }
  });
  $("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage({ location: villageLocation() });
  });
  for (const [inputId, part] of [["photo-input", "photo"], ["document-input", "document"]]) {
    $(inputId).addEventListener("change", (event) => {
      const [file] = event.target.files;
      if (file) sendFile(part, file);
      event.target.value = "";
    });
  }
  $("keyboard-button").addEventListener("click", () => {
    state.keyboardOpen = !state.keyboardOpen;
    paintReplyKeyboard();
  });
  $("persona-button").addEventListener("click", () => {
    if ($("persona-panel").hidden) openPersonas();
    else $("persona-panel").hidden = true;
  });
  $("persona-close").addEventListener("click", () => {
    if (state.persona) $("persona-panel").hidden = true;
  });
  $("persona-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const body = { first_name: form.first_name.value.trim(), language_code: form.language_code.value };
    if (form.user_id.value) body.id = Number(form.user_id.value);
    if (!body.first_name) return;
    try {
      const user = await api("users", { method: "POST", json: body });
      form.reset();
      await choosePersona(user);
    } catch (error) {
      toast(`Could not create the persona: ${error.message}`);
    }
  });
  $("chat-select").addEventListener("change", (event) => {
    state.commands = null;
    openChat(event.target.value);
  });
  $("messages").addEventListener("click", onMessagesClick);
  followSizeChanges();
}

async function boot() {
  wire();
  paintHeader();
  if (!(await loadBot())) waitForBot();
  let users = [];
  try {
    users = await loadPersonas();
  } catch (error) {
    toast(`Sandbox not reachable: ${error.message}`);
  }
  const asked = new URLSearchParams(window.location.search).get("user");
  const wanted = asked || localStorage.getItem(PERSONA_KEY);
  const persona = users.find((user) => String(user.id) === String(wanted));
  if (persona) {
    await choosePersona(persona);
    return;
  }
  if (asked && /^\d+$/.test(asked)) $("persona-form").user_id.value = asked;
  $("persona-panel").hidden = false;
}

window.auylnetSandbox = { telegramHtml, clockTime };
boot();

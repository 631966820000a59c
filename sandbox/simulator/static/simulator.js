// Intercom simulator page. The server plays Intercom (it builds, signs and sends every Canvas Kit
// request and draws the answer as escaped HTML); this script only asks it to run a flow, swaps the
// drawn canvas in, collects input values for submits and fills the traffic and activity panels.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("sim-config").textContent);
  const MAX_TRAFFIC = 80;
  const byId = (id) => document.getElementById(id);
  const state = {
    view: "inbox",
    contactId: null,
    conversationId: null,
    results: null, // the configure flow's results = the Messenger card's card_creation_options
    locale: "en",
    viewer: "user", // who opens the Messenger: the contact (user), or a lead / visitor
  };

  // ---- talking to the simulator's server ------------------------------------------------------
  async function call(path, payload) {
    let result;
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      result = await response.json();
      if (!response.ok) {
        result = { flow: `simulator ${path}`, request: payload, error: result.error || `HTTP ${response.status}` };
      }
    } catch (err) {
      result = { flow: `simulator ${path}`, request: payload, error: `The simulator did not answer: ${err}` };
    }
    logExchange(result);
    refreshActivitySoon();
    return result;
  }

  // ---- a place where a canvas is drawn --------------------------------------------------------
  class CanvasHost {
    constructor(frame, onSubmit) {
      this.frame = frame;
      this.slot = frame.querySelector('[data-role="canvas"]');
      this.warning = frame.querySelector('[data-role="warning"]');
      this.onSubmit = onSubmit;
      this.canvas = null;
      this.generation = 0;
      this.pending = false;
      this.contactId = null;
      this.locale = "en";
      this.viewer = "user";
      frame.addEventListener("click", (event) => this.click(event));
      frame.addEventListener("keydown", (event) => {
        if ((event.key === "Enter" || event.key === " ") && event.target.matches('[role="button"][data-action]')) {
          event.preventDefault();
          this.click(event);
        }
      });
    }

    reset(message) {
      this.generation += 1;
      this.canvas = null;
      this.setWarning([]);
      this.slot.replaceChildren(note("sim-placeholder", message));
      return this.generation;
    }

    busy(on) {
      this.frame.classList.toggle("is-busy", on);
      this.frame.setAttribute("aria-busy", on ? "true" : "false");
    }

    // Draw an exchange's answer. `live`: a live-canvas response, whose content replaces the
    // current canvas's content (the canvas keeps its content_url and stored_data).
    show(result, { live = false } = {}) {
      this.setWarning(problemsOf(result));
      if (typeof result.html === "string") {
        this.slot.innerHTML = result.html; // drawn and escaped by the server (Jinja2 autoescape)
        this.canvas = live && this.canvas ? { ...this.canvas, content: result.content } : result.canvas;
        if (result.event && result.event.type) {
          this.slot.append(note("sim-frame__event", `event: ${result.event.type} (Intercom records that the app finished)`));
        }
      } else if (!this.canvas) {
        this.slot.replaceChildren(note("sim-placeholder", "Nothing to show: see the warning above and the traffic panel."));
      }
    }

    setWarning(problems) {
      this.warning.hidden = problems.length === 0;
      this.warning.classList.toggle("is-failure", problems.some((p) => p.failure));
      this.warning.replaceChildren(...problems.map((p) => note("", p.text, "div")));
    }

    notice(text) {
      this.slot.querySelectorAll(".sim-frame__notice").forEach((n) => n.remove());
      this.slot.append(note("sim-frame__notice", text));
    }

    click(event) {
      const option = event.target.closest(".ck-option");
      if (option && this.slot.contains(option)) {
        if (option.disabled) return;
        const group = option.closest("[data-input-kind='single']");
        group.querySelectorAll(".ck-option").forEach((o) => o.setAttribute("aria-checked", String(o === option)));
        group.dataset.value = option.dataset.optionId;
        if (group.dataset.action) this.act(group);
        return;
      }
      const target = event.target.closest("[data-action]");
      if (!target || !this.slot.contains(target)) {
        const item = event.target.closest(".ck-list__item");
        if (item && this.slot.contains(item) && !item.classList.contains("is-disabled")) {
          this.notice(`List item "${item.dataset.componentId}" has no action: Intercom does nothing when it is clicked. Give it {"type": "submit"} to make it one.`);
        }
        return;
      }
      if (target.disabled || target.classList.contains("is-disabled")) return;
      event.preventDefault();
      this.act(target);
    }

    act(target) {
      const kind = target.dataset.action;
      if (kind === "submit") {
        this.submit(target.dataset.componentId);
      } else if (kind === "url") {
        if (target.dataset.url) window.open(target.dataset.url, "_blank", "noopener");
        else this.notice("This URL action has no http(s) URL: Intercom would not open it.");
      } else if (kind === "sheet") {
        this.notice(`Sheets are not simulated yet. Intercom would open a sheet by POSTing to ${target.dataset.url || "(no URL)"}.`);
      } else {
        this.notice(`Unknown action type "${kind}": Intercom would ignore this click.`);
      }
    }

    // Every interactive component's value, keyed by its id, as Intercom sends input_values.
    inputValues() {
      const values = {};
      for (const el of this.slot.querySelectorAll("[data-input-id]")) {
        const id = el.dataset.inputId;
        const kind = el.dataset.inputKind;
        if (kind === "text") values[id] = el.value;
        else if (kind === "select" && el.value) values[id] = el.value;
        else if (kind === "single" && el.dataset.value) values[id] = el.dataset.value;
        else if (kind === "checkbox") values[id] = [...el.querySelectorAll("input:checked")].map((i) => i.value);
      }
      return values;
    }

    async submit(componentId) {
      if (this.pending || !this.canvas) return;
      this.pending = true;
      this.busy(true);
      const generation = this.generation;
      try {
        await this.onSubmit(this, componentId, this.inputValues(), generation);
      } finally {
        this.pending = false;
        this.busy(false);
      }
    }
  }

  function note(className, text, tag = "p") {
    const element = document.createElement(tag);
    if (className) element.className = className;
    element.textContent = text;
    return element;
  }

  function problemsOf(result) {
    const problems = [];
    if (result.error) problems.push({ failure: true, text: result.error });
    const contract = result.contract;
    if (contract && contract.errors.length) {
      const more = contract.errors.length > 1 ? ` (and ${contract.errors.length - 1} more in the traffic panel)` : "";
      problems.push({ text: `⚠ This response fails the Canvas Kit contract (${contract.schema}): ${contract.errors[0]}${more}` });
    }
    if (contract && contract.limit_warnings.length) {
      problems.push({ text: `⚠ Canvas Kit limits: ${contract.limit_warnings.join("; ")}` });
    }
    return problems;
  }

  // ---- Messenger cards (the Messenger view and cards inserted into a conversation) -------------
  async function messengerSubmit(host, componentId, inputValues, generation) {
    const result = await call("/api/messenger/submit", {
      contact_id: host.contactId,
      viewer: host.viewer,
      locale: host.locale,
      component_id: componentId,
      input_values: inputValues,
      current_canvas: host.canvas,
    });
    if (generation !== host.generation) return;
    host.show(result);
    await viewLive(host, generation);
  }

  // A live canvas: Intercom POSTs to content_url each time the card is viewed.
  async function viewLive(host, generation) {
    if (!host.canvas || !host.canvas.content_url) return;
    const result = await call("/api/messenger/content", {
      contact_id: host.contactId,
      viewer: host.viewer,
      locale: host.locale,
      canvas: host.canvas,
    });
    if (generation !== host.generation) return;
    host.show(result, { live: true });
  }

  async function initializeCard(host, options, generation) {
    host.busy(true);
    try {
      const result = await call("/api/messenger/initialize", {
        contact_id: host.contactId,
        viewer: host.viewer,
        locale: host.locale,
        card_creation_options: options,
      });
      if (generation !== host.generation) return;
      host.show(result);
      await viewLive(host, generation);
    } finally {
      host.busy(false);
    }
  }

  const insertedCards = [];

  // An inbox submit answered with card_creation_options: Intercom asks the Messenger initialize
  // for the card and inserts it into the conversation, where the customer sees it.
  async function insertCard(contactId, options) {
    const fragment = byId("inserted-card").content.cloneNode(true);
    const message = fragment.querySelector('[data-role="inserted-card"]');
    message.dataset.card = String(options.card || "");
    message.querySelector('[data-role="author"]').textContent =
      `Sam Support sent a card · card_creation_options ${JSON.stringify(options)}`;
    const host = new CanvasHost(message.querySelector(".sim-frame"), messengerSubmit);
    host.contactId = contactId;
    host.locale = state.locale;
    insertedCards.push(host);
    byId("thread-body").append(fragment);
    message.scrollIntoView({ block: "nearest" });
    await initializeCard(host, options, host.generation);
  }

  // ---- inbox ----------------------------------------------------------------------------------
  const inbox = new CanvasHost(byId("inbox-frame"), async (host, componentId, inputValues, generation) => {
    const contactId = state.contactId;
    const result = await call("/api/inbox/submit", {
      contact_id: contactId,
      conversation_id: state.conversationId,
      component_id: componentId,
      input_values: inputValues,
      current_canvas: host.canvas,
    });
    if (generation !== host.generation) return;
    host.show(result);
    if (result.card_creation_options && typeof result.card_creation_options === "object") {
      await insertCard(contactId, result.card_creation_options);
    }
  });
  let inboxShows = null;

  async function openInbox() {
    if (!state.contactId || inboxShows === state.contactId) return;
    inboxShows = state.contactId;
    const generation = inbox.reset("Loading…");
    inbox.busy(true);
    try {
      const result = await call("/api/inbox/initialize", {
        contact_id: state.contactId,
        conversation_id: state.conversationId,
      });
      if (generation === inbox.generation) inbox.show(result);
    } finally {
      inbox.busy(false);
    }
  }

  function showThread(conversation) {
    byId("thread-title").textContent = conversation.name || conversation.email || conversation.contact_id;
    byId("thread-meta").textContent = [conversation.email, conversation.conversation_id].filter(Boolean).join(" · ");
    const body = byId("thread-body");
    insertedCards.length = 0;
    const message = document.createElement("div");
    message.className = "sim-message";
    message.append(
      note("sim-message__author", conversation.name || conversation.email || "Customer", "span"),
      note("sim-message__bubble", conversation.opening || "(no message)", "div"),
    );
    body.replaceChildren(message);
  }

  // ---- Messenger view -------------------------------------------------------------------------
  const configure = new CanvasHost(byId("configure-frame"), async (host, componentId, inputValues, generation) => {
    const result = await call("/api/messenger/configure", {
      component_id: componentId,
      input_values: inputValues,
      current_canvas: host.canvas,
    });
    if (generation === host.generation) configured(result);
  });
  const messenger = new CanvasHost(byId("messenger-frame"), messengerSubmit);
  let messengerShows = null;

  async function startConfigure() {
    state.results = null;
    messengerShows = null;
    byId("configure-results").hidden = true;
    const generation = configure.reset("Asking the app how to configure the card…");
    configure.busy(true);
    try {
      const result = await call("/api/messenger/configure", {});
      if (generation === configure.generation) configured(result);
    } finally {
      configure.busy(false);
    }
  }

  function configured(result) {
    if (result.results && typeof result.results === "object") {
      configure.setWarning(problemsOf(result));
      configure.slot.replaceChildren(note("sim-placeholder", "Configured. Insert the app again to choose another card."));
      useResults(result.results, "Configure finished with results");
    } else {
      configure.show(result);
    }
  }

  function useResults(results, how) {
    state.results = results;
    const line = byId("configure-results");
    line.replaceChildren(`${how}: `, note("", JSON.stringify(results), "code"));
    line.hidden = false;
    messengerShows = null;
    updateUrl();
    openMessengerCard();
  }

  async function openMessengerCard() {
    if (!state.results) return;
    if (!state.contactId) {
      messenger.reset("Pick a customer on the left to see the card as they do.");
      return;
    }
    const key = `${state.contactId}|${state.viewer}|${state.locale}|${JSON.stringify(state.results)}`;
    if (messengerShows === key) return;
    messengerShows = key;
    showMessengerCustomer();
    const generation = messenger.reset("Loading the card…");
    messenger.contactId = state.contactId;
    messenger.locale = state.locale;
    messenger.viewer = state.viewer;
    byId("reload-live").disabled = true;
    await initializeCard(messenger, state.results, generation);
    byId("reload-live").disabled = !(messenger.canvas && messenger.canvas.content_url);
  }

  function showMessengerCustomer() {
    const conversation = conversationOf(state.contactId);
    const who = conversation ? conversation.name || conversation.email : "Pick a customer on the left.";
    const claim = { lead: "a lead who typed the email of ", visitor: "an anonymous visitor, not " }[state.viewer] || "";
    byId("messenger-customer").textContent = conversation ? `Seen by ${claim}${who} (${state.locale})` : who;
  }

  // ---- selection, views, deep links ----------------------------------------------------------
  function conversationOf(contactId) {
    return config.conversations.find((c) => c.contact_id === contactId) || null;
  }

  function selectConversation(contactId) {
    const conversation = conversationOf(contactId);
    if (!conversation) return;
    state.contactId = contactId;
    state.conversationId = conversation.conversation_id;
    document.querySelectorAll(".sim-conversation").forEach((b) => {
      b.setAttribute("aria-current", String(b.dataset.contactId === contactId));
    });
    showThread(conversation);
    showMessengerCustomer();
    inboxShows = null;
    updateUrl();
    refreshActivity();
    openView();
  }

  function setView(view) {
    state.view = view === "messenger" ? "messenger" : "inbox";
    document.body.dataset.view = state.view;
    document.querySelectorAll("[data-view-tab]").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.viewTab === state.view));
    });
    document.querySelectorAll("[data-view-panel]").forEach((panel) => {
      panel.hidden = panel.dataset.viewPanel !== state.view;
    });
    updateUrl();
    openView();
  }

  function openView() {
    if (state.view === "inbox") {
      openInbox();
    } else if (state.results) {
      openMessengerCard();
    } else if (!configure.canvas && !configure.pending && !configure.frame.classList.contains("is-busy")) {
      startConfigure();
    }
  }

  function updateUrl() {
    const params = new URLSearchParams();
    params.set("view", state.view);
    if (state.contactId) params.set("contact", state.contactId);
    if (state.view === "messenger") {
      if (state.results) params.set("options", JSON.stringify(state.results));
      if (state.locale !== "en") params.set("locale", state.locale);
      if (state.viewer !== "user") params.set("viewer", state.viewer);
    }
    history.replaceState(null, "", `?${params}`);
  }

  // ---- the sandboxes -------------------------------------------------------------------------
  let activityTimer = null;
  function refreshActivitySoon() {
    clearTimeout(activityTimer);
    activityTimer = setTimeout(refreshActivity, 150);
  }

  async function refreshActivity() {
    if (!config.activity || !state.contactId) return;
    const contactId = state.contactId;
    try {
      const response = await fetch(`/api/contacts/${encodeURIComponent(contactId)}/activity`);
      const data = await response.json();
      if (contactId !== state.contactId) return;
      const target = byId("activity");
      if (response.ok) target.innerHTML = data.html; // drawn and escaped by the server
      else target.replaceChildren(note("sim-note", data.error || `HTTP ${response.status}`));
    } catch (err) {
      byId("activity").replaceChildren(note("sim-note", `Could not read the sandbox Intercom: ${err}`));
    }
  }

  async function settleSepa(button) {
    button.disabled = true;
    try {
      const response = await fetch("/api/stripe/settle-sepa", { method: "POST" });
      const data = await response.json();
      const settled = Array.isArray(data.settled) ? data.settled.length : 0;
      button.textContent = response.ok ? `Settled ${settled} SEPA debit${settled === 1 ? "" : "s"}` : "Settling failed";
      button.title = JSON.stringify(data);
      // The agent reopens the conversation; the customer views the card again.
      inboxShows = null;
      if (state.view === "inbox") await openInbox();
      await viewLive(messenger, messenger.generation);
      for (const host of insertedCards) await viewLive(host, host.generation);
    } finally {
      button.disabled = false;
      setTimeout(() => { button.textContent = "Settle SEPA debits"; }, 4000);
    }
  }

  // ---- traffic panel --------------------------------------------------------------------------
  let trafficWarnings = 0;

  function logExchange(result) {
    const list = byId("traffic");
    const item = document.createElement("li");
    item.className = "sim-exchange";
    item.dataset.flow = result.flow || "";
    const contract = result.contract;
    let verdict = "unchecked";
    let verdictText = "not checked";
    if (contract && !contract.available) {
      verdict = "unavailable";
      verdictText = "contract not available";
    } else if (contract && contract.errors.length) {
      verdict = "violations";
      verdictText = `⚠ ${contract.errors.length} contract error${contract.errors.length === 1 ? "" : "s"}`;
    } else if (contract) {
      verdict = "ok";
      verdictText = contract.limit_warnings.length ? "✓ contract · ⚠ limits" : "✓ contract";
    }
    item.dataset.contract = verdict;

    const details = document.createElement("details");
    const summary = document.createElement("summary");
    const statusOk = result.status === 200 && !result.error;
    summary.append(
      note("sim-exchange__flow", result.flow || "request", "span"),
      note(`sim-exchange__status${statusOk ? "" : " is-bad"}`, result.status ? `HTTP ${result.status}` : "no answer", "span"),
      note("sim-exchange__time", result.elapsed_ms != null ? `${result.elapsed_ms} ms` : "", "span"),
      note(`sim-exchange__contract is-${verdict === "ok" ? "ok" : verdict === "violations" ? "bad" : "unknown"}`, verdictText, "span"),
    );
    const body = document.createElement("div");
    body.className = "sim-exchange__body";
    if (result.url) body.append(note("sim-note", `POST ${result.url}`));
    if (result.error) body.append(problemList([result.error], ""));
    if (contract && contract.errors.length) body.append(problemList(contract.errors, ""));
    if (contract && contract.limit_warnings.length) body.append(problemList(contract.limit_warnings, "is-limits"));
    if (contract && contract.note) body.append(note("sim-note", contract.note));
    const columns = document.createElement("div");
    columns.className = "sim-exchange__columns";
    columns.append(
      jsonBlock("Request", { headers: result.request_headers, body: result.request }),
      jsonBlock("Response", result.response_text != null ? result.response_text : result.response),
    );
    body.append(columns);
    details.append(summary, body);
    item.append(details);
    list.prepend(item);
    while (list.children.length > MAX_TRAFFIC) list.lastElementChild.remove();

    if (verdict === "violations") trafficWarnings += 1;
    byId("traffic-count").textContent = String(list.children.length);
    const warnings = byId("traffic-warnings");
    warnings.hidden = trafficWarnings === 0;
    warnings.textContent = `⚠ ${trafficWarnings} failing the contract`;
  }

  function problemList(problems, extraClass) {
    const list = document.createElement("ul");
    list.className = `sim-exchange__problems ${extraClass}`.trim();
    list.append(...problems.map((p) => note("", p, "li")));
    return list;
  }

  function jsonBlock(title, value) {
    const block = document.createElement("div");
    const text = typeof value === "string" ? value : JSON.stringify(value === undefined ? null : value, null, 2);
    block.append(note("", title, "h4"), note("sim-json", text, "pre"));
    return block;
  }

  // ---- wiring ---------------------------------------------------------------------------------
  document.querySelectorAll(".sim-conversation").forEach((button) => {
    button.addEventListener("click", () => selectConversation(button.dataset.contactId));
  });
  document.querySelectorAll("[data-view-tab]").forEach((tab) => {
    tab.addEventListener("click", () => setView(tab.dataset.viewTab));
  });
  byId("start-configure").addEventListener("click", startConfigure);
  byId("reload-live").addEventListener("click", () => viewLive(messenger, messenger.generation));
  byId("messenger-locale").addEventListener("change", (event) => {
    state.locale = event.target.value;
    showMessengerCustomer();
    updateUrl();
    openMessengerCard();
  });
  byId("messenger-viewer").addEventListener("change", (event) => {
    state.viewer = event.target.value;
    showMessengerCustomer();
    updateUrl();
    openMessengerCard();
  });
  const settle = byId("settle-sepa");
  if (settle) settle.addEventListener("click", () => settleSepa(settle));

  // Deep links: ?view=messenger&contact=contact_sepa&options={"card":"payment_recovery"}&locale=de
  const params = new URLSearchParams(location.search);
  if (params.get("locale") === "de") {
    state.locale = "de";
    byId("messenger-locale").value = "de";
  }
  if (["lead", "visitor"].includes(params.get("viewer"))) {
    state.viewer = params.get("viewer");
    byId("messenger-viewer").value = state.viewer;
  }
  if (params.get("options")) {
    try {
      const options = JSON.parse(params.get("options"));
      if (options && typeof options === "object") {
        state.results = options;
        const line = byId("configure-results");
        line.replaceChildren("Re-opened with card_creation_options from the link: ", note("", JSON.stringify(options), "code"));
        line.hidden = false;
        configure.slot.replaceChildren(note("sim-placeholder", "Insert the app again to run configure."));
      }
    } catch (err) {
      byId("configure-results").textContent = `The options in the link are not JSON: ${err}`;
      byId("configure-results").hidden = false;
    }
  }
  state.view = params.get("view") === "messenger" ? "messenger" : "inbox";
  setView(state.view);
  if (params.get("contact") && conversationOf(params.get("contact"))) selectConversation(params.get("contact"));
})();

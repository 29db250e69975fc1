// The dashboard of `tipi ui` and `tipi report`: pages drawn from the JSON API (or, in a report, from the
// data inlined in the file). Every user string goes into the page through textContent or setAttribute,
// never as markup; charts are SVG drawn here.
"use strict";
(function () {
  const boot = JSON.parse(document.getElementById("tipi-boot").textContent);
  const reportBlock = document.getElementById("tipi-report");
  const report = reportBlock ? JSON.parse(reportBlock.textContent) : null;
  const app = document.getElementById("app");
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"];
  const LIVE_MS = 1000; // how often a live page asks while a run is running
  const IDLE_MS = 3000; // how often the runs table asks for new runs while none is running
  const FULL_MS = 30000; // how often the runs table reloads the whole list (runs removed, or whose process died)

  // ---- DOM helpers: text is always a text node, attributes go through setAttribute.

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, String(value));
    }
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  async function getJSON(url) {
    return (await getAnswer(url)).body;
  }

  // The decoded body and the server's clock at the answer (header X-Tipi-Time, seconds since 1970).
  async function getAnswer(url) {
    const response = await fetch(url, { cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || "HTTP " + response.status);
    const time = Number(response.headers.get("X-Tipi-Time"));
    return { body, time: Number.isFinite(time) && time > 0 ? time : Date.now() / 1000 };
  }

  function showError(error) {
    clear(app);
    app.appendChild(el("p", { class: "error" }, String(error.message || error)));
  }

  function setLive(text) {
    const live = document.getElementById("live");
    if (live) live.textContent = text;
  }

  // ---- Values

  function num(value) {
    if (typeof value === "number") return value;
    if (value === "NaN") return NaN;
    if (value === "Infinity") return Infinity;
    if (value === "-Infinity") return -Infinity;
    const parsed = Number(value);
    return typeof value === "string" && value.trim() !== "" && !Number.isNaN(parsed) ? parsed : NaN;
  }

  function fmt(value) {
    if (value === undefined || value === null) return "—";
    if (typeof value === "string") return value;
    if (typeof value === "boolean") return String(value);
    if (typeof value !== "number") return JSON.stringify(value);
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
    const magnitude = Math.abs(value);
    if (magnitude >= 1e-3 && magnitude < 1e6) return String(Number(value.toPrecision(4)));
    return value.toExponential(3);
  }

  function duration(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    if (total < 60) return total + "s";
    if (total < 3600) return Math.floor(total / 60) + "m" + String(total % 60).padStart(2, "0") + "s";
    return Math.floor(total / 3600) + "h" + String(Math.floor((total % 3600) / 60)).padStart(2, "0") + "m";
  }

  function flatten(object, prefix, out) {
    out = out || {};
    for (const key of Object.keys(object || {}).sort()) {
      const name = prefix ? prefix + "." + key : key;
      const value = object[key];
      if (value && typeof value === "object" && !Array.isArray(value)) flatten(value, name, out);
      else out[name] = value;
    }
    return out;
  }

  function shellQuote(word) {
    return /^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word) ? word : "'" + word.replace(/'/g, "'\\''") + "'";
  }

  function runLink(run) {
    return el("a", { href: "/runs/" + encodeURIComponent(run.id) }, run.name);
  }

  function badge(status) {
    return el("span", { class: "status status-" + String(status).replace(/[^a-z]/g, "") }, status);
  }

  // ---- Columns and filters (the same names as `tipi runs --columns/--where/--sort`)

  const BUILTIN = {
    name: (run) => run.name,
    id: (run) => run.id,
    project: (run) => run.project,
    status: (run) => run.status,
    started: (run) => run.startTime,
    duration: (run) => run.durationSeconds,
    tags: (run) => (run.tags || []).join(", "),
    sweep: (run) => (run.sweep ? run.sweep.id : undefined),
    host: (run) => run.host,
  };

  function columnValue(run, column) {
    if (BUILTIN[column]) return BUILTIN[column](run);
    const summary = run.summary || {};
    if (summary[column]) return num(summary[column].last);
    const dot = column.lastIndexOf(".");
    if (dot > 0) {
      const metric = column.slice(0, dot);
      const field = column.slice(dot + 1);
      if (summary[metric] && ["last", "min", "max", "count", "step"].includes(field)) return num(summary[metric][field]);
    }
    const config = run._flat || (run._flat = flatten(run.config));
    return config[column];
  }

  function compareValues(a, b) {
    const aMissing = a === undefined || a === null || (typeof a === "number" && Number.isNaN(a));
    const bMissing = b === undefined || b === null || (typeof b === "number" && Number.isNaN(b));
    if (aMissing || bMissing) return aMissing === bMissing ? 0 : aMissing ? 1 : -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b));
  }

  // `lr=0.01, val/loss.min<0.3` (also `and` between conditions); returns a predicate or throws.
  function parseWhere(text) {
    const parts = text.split(/,|\band\b/).map((part) => part.trim()).filter(Boolean);
    const tests = parts.map((part) => {
      const match = /^(.+?)\s*(<=|>=|!=|==|=|<|>|~)\s*(.*)$/.exec(part);
      if (!match) throw new Error("not a condition: " + part + " (for example lr=0.01 or val/loss.min<0.3)");
      const [, column, op, raw] = match;
      const wanted = raw.replace(/^["']|["']$/g, "");
      const wantedNumber = Number(wanted);
      return (run) => {
        const value = columnValue(run, column.trim());
        if (value === undefined) return false;
        if (op === "~") return String(value).includes(wanted);
        const numeric = typeof value === "number" && wanted !== "" && !Number.isNaN(wantedNumber);
        const order = numeric ? value - wantedNumber : String(fmtPlain(value)).localeCompare(wanted);
        switch (op) {
          case "<": return order < 0;
          case "<=": return order <= 0;
          case ">": return order > 0;
          case ">=": return order >= 0;
          case "!=": return order !== 0;
          default: return order === 0;
        }
      };
    });
    return (run) => tests.every((test) => test(run));
  }

  function fmtPlain(value) {
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  // ---- The runs page

  const FIRST_ROWS = 200;

  async function runsPage() {
    const params = new URLSearchParams(location.search);
    // The first rows come first (newest first, as the server lists them); the whole list follows.
    const first = await getAnswer("/api/runs?limit=" + FIRST_ROWS);
    let runs = first.body;
    let since = first.time;
    let complete = runs.length < FIRST_ROWS;
    const state = {
      cols: (params.get("cols") || "").split(",").map((c) => c.trim()).filter(Boolean),
      sort: params.get("sort") || "-started",
      q: params.get("q") || "",
      project: params.get("project") || "",
      status: params.get("status") || "",
      tag: params.get("tag") || "",
      where: params.get("where") || "",
      all: params.get("all") === "1",
    };
    if (state.cols.length === 0) state.cols = defaultColumns(runs);
    const selected = new Set();

    const projects = [...new Set(runs.map((r) => r.project))].sort();
    const statuses = [...new Set(runs.map((r) => r.status))].sort();
    const input = (name, placeholder, size) =>
      el("input", { name, placeholder, size, value: state[name], oninput: (event) => { state[name] = event.target.value; draw(); } });
    const select = (name, options) =>
      el("select", { name, onchange: (event) => { state[name] = event.target.value; draw(); } },
        el("option", { value: "" }, name === "status" ? "all statuses" : "all " + name + "s"),
        options.map((option) => el("option", { value: option, selected: option === state[name] }, option)));
    let projectSelect = select("project", projects);
    let statusSelect = select("status", statuses);
    // The project and status choices, again after the runs changed (a new project, a first crash).
    const refreshChoices = () => {
      const fresh = (name, old) => {
        const values = [...new Set(runs.map((r) => r[name]))].sort();
        if ([...old.options].slice(1).map((o) => o.value).join("\u0000") === values.join("\u0000")) return old;
        const replacement = select(name, values);
        old.replaceWith(replacement);
        return replacement;
      };
      projectSelect = fresh("project", projectSelect);
      statusSelect = fresh("status", statusSelect);
    };
    const columnsInput = el("input", {
      name: "cols", size: 50, value: state.cols.join(","), list: "tipi-columns",
      onchange: (event) => { state.cols = event.target.value.split(",").map((c) => c.trim()).filter(Boolean); draw(); },
    });
    const datalist = el("datalist", { id: "tipi-columns" });
    const whereError = el("span", { class: "error" });
    const count = el("span", { class: "muted", id: "run-count" });
    const compareButton = el("button", { disabled: true, onclick: () => {
      location.href = "/compare?runs=" + [...selected].map(encodeURIComponent).join(",");
    } }, "Compare selected");
    const table = el("table", { id: "runs", class: "runs" });
    clear(app);
    app.append(
      el("div", { class: "filters" },
        input("q", "search name, id, tag", 18), projectSelect, statusSelect,
        input("tag", "tag", 8), input("where", "lr=0.01, val/loss.min<0.3", 26), whereError),
      el("div", { class: "filters" }, el("label", {}, "columns ", columnsInput), datalist, compareButton, count),
      table);

    function availableColumns() {
      const names = new Set(Object.keys(BUILTIN));
      for (const run of runs.slice(0, 500)) {
        for (const key of Object.keys(flatten(run.config))) names.add(key);
        for (const key of Object.keys(run.summary || {})) { names.add(key + ".last"); names.add(key + ".min"); names.add(key + ".max"); }
      }
      return [...names].sort();
    }

    function draw() {
      const url = new URLSearchParams();
      if (state.cols.join(",") !== defaultColumns(runs).join(",")) url.set("cols", state.cols.join(","));
      for (const key of ["sort", "q", "project", "status", "tag", "where"]) if (state[key] && !(key === "sort" && state.sort === "-started")) url.set(key, state[key]);
      if (state.all) url.set("all", "1");
      history.replaceState(null, "", url.toString() ? "?" + url.toString() : location.pathname);

      let predicate = () => true;
      whereError.textContent = "";
      if (state.where.trim()) {
        try { predicate = parseWhere(state.where); } catch (error) { whereError.textContent = error.message; }
      }
      const q = state.q.toLowerCase();
      let shown = runs.filter((run) =>
        (!state.project || run.project === state.project) && (!state.status || run.status === state.status) &&
        (!state.tag || (run.tags || []).includes(state.tag)) &&
        (!q || run.name.toLowerCase().includes(q) || run.id.includes(q) || (run.tags || []).some((t) => t.toLowerCase().includes(q))) &&
        predicate(run));
      const descending = state.sort.startsWith("-");
      const key = descending ? state.sort.slice(1) : state.sort;
      shown.sort((a, b) => {
        const order = compareValues(columnValue(a, key), columnValue(b, key));
        return descending ? -order : order;
      });
      count.textContent = complete ? shown.length + " of " + runs.length + " runs" : "loading all runs…";
      const limit = state.all ? shown.length : 500;
      clear(table);
      table.appendChild(el("thead", {}, el("tr", {}, el("th", {}),
        state.cols.map((column) => el("th", {
          class: "sortable" + (key === column ? (descending ? " desc" : " asc") : ""), title: "sort by " + column,
          onclick: () => { state.sort = key === column && !descending ? "-" + column : column; draw(); },
        }, column)))));
      const body = el("tbody");
      for (const run of shown.slice(0, limit)) {
        body.appendChild(el("tr", { "data-run": run.id },
          el("td", {}, el("input", { type: "checkbox", checked: selected.has(run.id), onchange: (event) => {
            if (event.target.checked) selected.add(run.id); else selected.delete(run.id);
            compareButton.disabled = selected.size < 2;
          } })),
          state.cols.map((column) => el("td", {}, cell(run, column)))));
      }
      table.appendChild(body);
      if (shown.length > limit) {
        table.appendChild(el("tfoot", {}, el("tr", {}, el("td", { colspan: state.cols.length + 1 },
          el("button", { onclick: () => { state.all = true; draw(); } }, "show all " + shown.length + " runs")))));
      }
      if (datalist.childElementCount === 0) for (const name of availableColumns()) datalist.appendChild(el("option", { value: name }));
    }

    function cell(run, column) {
      if (column === "name") return runLink(run);
      if (column === "status") return badge(run.status);
      if (column === "started") return run.startTime;
      if (column === "duration") return duration(run.durationSeconds);
      if (column === "sweep" && run.sweep) return el("a", { href: "/sweeps/" + encodeURIComponent(run.sweep.id) }, run.sweep.id);
      return fmt(columnValue(run, column));
    }

    draw();
    // When the first rows were drawn, in ms since navigation began (read by the speed benchmark).
    document.body.setAttribute("data-first-rows-ms", String(Math.round(performance.now())));
    if (!complete) {
      const answer = await getAnswer("/api/runs");
      runs = answer.body;
      since = answer.time;
      complete = true;
      refreshChoices();
      draw();
    }
    followRuns({
      since,
      runs: () => runs,
      // New runs may bring new projects, statuses and column names (the completion list is drawn again).
      update: (list) => { runs = list; refreshChoices(); clear(datalist); draw(); },
    });
  }

  // The runs table, live: asks `/api/runs?since=T` (the runs started, ended or heard from since T, and
  // those running) once a second while a listed run is running, every IDLE_MS otherwise, one request at a
  // time and none while the tab is hidden. Changed runs replace their rows and new runs are added; a
  // finished run drops out of the answers once its end is older than T, so it is not asked about again.
  // A run listed as running that the answer leaves out has ended without a word (its process died):
  // the next request reloads the whole list, as it does every FULL_MS. T is the server's clock at the
  // previous answer less 2 s (the server's listing may be a second old). The page's counters, for the
  // browser tests: data-live-polls (requests made) and data-live-runs (the ids of the last answer).
  function followRuns({ since, runs, update }) {
    const table = document.getElementById("runs");
    let lastFull = Date.now();
    let reloadAll = false;
    let polls = 0;
    const running = () => runs().some((run) => run.status === "running");
    const comparable = (run) => JSON.stringify(run, (key, value) => (key.startsWith("_") ? undefined : value));
    async function poll() {
      try {
        if (!document.hidden) {
          const whole = reloadAll || Date.now() - lastFull > FULL_MS;
          const answer = await getAnswer(whole ? "/api/runs" : "/api/runs?since=" + (since - 2).toFixed(3));
          polls += 1;
          since = answer.time;
          if (whole) {
            lastFull = Date.now();
            reloadAll = false;
            update(answer.body);
          } else {
            merge(answer.body);
          }
          table.setAttribute("data-live-polls", String(polls));
          table.setAttribute("data-live-runs", answer.body.map((run) => run.id).join(","));
          setLive(running() ? "live" : "");
        }
      } catch (error) {
        setLive("offline: " + error.message);
      }
      setTimeout(poll, running() ? LIVE_MS : IDLE_MS);
    }
    function merge(changed) {
      const byId = new Map(changed.map((run) => [run.id, run]));
      const known = new Set();
      let differs = false;
      const kept = runs().map((run) => {
        known.add(run.id);
        const fresh = byId.get(run.id);
        if (fresh) {
          if (comparable(fresh) !== comparable(run)) differs = true;
          return fresh;
        }
        if (run.status === "running") reloadAll = true;
        return run;
      });
      const added = changed.filter((run) => !known.has(run.id));
      if (added.length || differs) update(added.concat(kept));
    }
    setTimeout(poll, running() ? LIVE_MS : IDLE_MS);
  }

  function defaultColumns(runs) {
    const metrics = new Map();
    for (const run of runs.slice(0, 200)) for (const key of Object.keys(run.summary || {})) metrics.set(key, (metrics.get(key) || 0) + 1);
    const rank = (key) => (/loss/i.test(key) ? 0 : /acc/i.test(key) ? 1 : 2);
    const main = [...metrics.keys()].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b)).slice(0, 3);
    return ["name", "status", "project", "started", "duration"].concat(main);
  }

  // ---- Charts

  // A chart of one metric: several series ({label, color, points}); log scale, smoothing, zoom by
  // dragging (double-click resets), hover values.
  function makeChart(title, options) {
    const box = el("div", { class: "chart", "data-metric": title });
    const readout = el("div", { class: "readout" });
    const holder = el("div", { class: "plot" });
    box.append(el("h3", {}, title), holder, readout);
    const chart = { box, series: [], zoom: null, options };
    chart.draw = () => drawChart(chart, holder, readout);
    return chart;
  }

  function smooth(values, weight) {
    if (!weight) return values;
    const out = [];
    let last = 0;
    let count = 0;
    for (const value of values) {
      if (!Number.isFinite(value)) { out.push(value); continue; }
      last = last * weight + (1 - weight) * value;
      count += 1;
      out.push(last / (1 - Math.pow(weight, count)));
    }
    return out;
  }

  function drawChart(chart, holder, readout) {
    const { options } = chart;
    const width = Math.max(320, Math.min(holder.clientWidth || 600, 1200));
    const height = 220;
    const pad = { left: 60, right: 12, top: 8, bottom: 26 };
    const log = options.log;
    const prepared = chart.series.map((series) => {
      const steps = series.points.map((p) => p.step);
      const values = smooth(series.points.map((p) => num(p.value)), options.smoothing);
      return { ...series, steps, values };
    });
    let xMin = Infinity, xMax = -Infinity, yMin = Infinity, yMax = -Infinity;
    for (const s of prepared) {
      for (let i = 0; i < s.steps.length; i++) {
        const x = s.steps[i], y = s.values[i];
        if (chart.zoom && (x < chart.zoom[0] || x > chart.zoom[1])) continue;
        xMin = Math.min(xMin, x); xMax = Math.max(xMax, x);
        if (Number.isFinite(y) && (!log || y > 0)) { yMin = Math.min(yMin, y); yMax = Math.max(yMax, y); }
      }
    }
    if (chart.zoom) { xMin = chart.zoom[0]; xMax = chart.zoom[1]; }
    clear(holder);
    const root = svg("svg", { width, height, viewBox: "0 0 " + width + " " + height, class: "plot-svg" });
    holder.appendChild(root);
    if (!Number.isFinite(xMin) || !Number.isFinite(yMin)) {
      root.appendChild(svg("text", { x: 10, y: 20, class: "muted" }, "no finite values" + (log ? " above 0 (log scale)" : "")));
      root.setAttribute("data-points", "0");
      return;
    }
    if (xMax === xMin) { xMin -= 1; xMax += 1; }
    if (yMax === yMin) { const d = Math.abs(yMin) * 0.1 || 1; yMin -= d; yMax += d; }
    const ty = log ? (v) => Math.log10(v) : (v) => v;
    const y0 = ty(yMin), y1 = ty(yMax);
    const sx = (x) => pad.left + ((x - xMin) / (xMax - xMin)) * (width - pad.left - pad.right);
    const sy = (y) => pad.top + (1 - (ty(y) - y0) / (y1 - y0)) * (height - pad.top - pad.bottom);
    // Axes and ticks.
    const axes = svg("g", { class: "axes" });
    for (let i = 0; i <= 4; i++) {
      const yv = log ? Math.pow(10, y0 + ((y1 - y0) * i) / 4) : yMin + ((yMax - yMin) * i) / 4;
      const y = sy(yv);
      axes.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, class: "grid" }),
        svg("text", { x: pad.left - 4, y: y + 4, "text-anchor": "end" }, fmt(yv)));
      const xv = xMin + ((xMax - xMin) * i) / 4;
      axes.appendChild(svg("text", { x: sx(xv), y: height - 8, "text-anchor": "middle" }, fmt(Math.round(xv))));
    }
    root.appendChild(axes);
    let drawn = 0;
    for (const s of prepared) {
      let d = "";
      let pen = false;
      for (let i = 0; i < s.steps.length; i++) {
        const x = s.steps[i], y = s.values[i];
        if (x < xMin || x > xMax || !Number.isFinite(y) || (log && y <= 0)) { pen = false; continue; }
        d += (pen ? "L" : "M") + sx(x).toFixed(1) + " " + sy(y).toFixed(1);
        pen = true;
        drawn += 1;
      }
      root.appendChild(svg("path", { d, stroke: s.color, class: "line", "data-label": s.label, "data-points": s.steps.length }));
    }
    root.setAttribute("data-points", String(drawn));
    root.setAttribute("data-series", String(prepared.length));
    // Hover: the nearest point of each series.
    const cursor = svg("line", { y1: pad.top, y2: height - pad.bottom, class: "cursor", visibility: "hidden" });
    const band = svg("rect", { y: pad.top, height: height - pad.top - pad.bottom, class: "zoom-band", visibility: "hidden" });
    root.append(cursor, band);
    const stepAt = (event) => {
      const box = root.getBoundingClientRect();
      const px = ((event.clientX - box.left) / box.width) * width;
      return xMin + ((px - pad.left) / (width - pad.left - pad.right)) * (xMax - xMin);
    };
    let dragFrom = null;
    root.addEventListener("mousemove", (event) => {
      const step = stepAt(event);
      cursor.setAttribute("x1", sx(Math.min(Math.max(step, xMin), xMax)));
      cursor.setAttribute("x2", cursor.getAttribute("x1"));
      cursor.setAttribute("visibility", "visible");
      clear(readout);
      for (const s of prepared) {
        const i = nearest(s.steps, step);
        if (i < 0) continue;
        readout.appendChild(el("span", { class: "value" }, el("b", { class: "swatch", "data-color": s.color }), s.label + " step " + s.steps[i] + ": " + fmt(s.values[i])));
      }
      for (const swatch of readout.querySelectorAll(".swatch")) swatch.style.backgroundColor = swatch.getAttribute("data-color");
      if (dragFrom !== null) {
        const a = sx(Math.max(Math.min(dragFrom, step), xMin)), b = sx(Math.min(Math.max(dragFrom, step), xMax));
        band.setAttribute("x", a); band.setAttribute("width", Math.max(0, b - a)); band.setAttribute("visibility", "visible");
      }
    });
    root.addEventListener("mouseleave", () => { cursor.setAttribute("visibility", "hidden"); });
    root.addEventListener("mousedown", (event) => { dragFrom = stepAt(event); event.preventDefault(); });
    root.addEventListener("mouseup", (event) => {
      const to = stepAt(event);
      if (dragFrom !== null && Math.abs(sx(to) - sx(dragFrom)) > 5) chart.zoom = [Math.min(dragFrom, to), Math.max(dragFrom, to)];
      dragFrom = null;
      band.setAttribute("visibility", "hidden");
      if (chart.zoom) chart.draw();
    });
    root.addEventListener("dblclick", () => { chart.zoom = null; chart.draw(); });
  }

  function nearest(steps, step) {
    if (steps.length === 0) return -1;
    let lo = 0, hi = steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (steps[mid] < step) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && Math.abs(steps[lo - 1] - step) <= Math.abs(steps[lo] - step)) return lo - 1;
    return lo;
  }

  // The chart controls shared by a page's charts.
  function chartControls(charts) {
    const options = { log: false, smoothing: 0 };
    const redraw = () => charts.forEach((chart) => chart.draw());
    const controls = el("div", { class: "filters" },
      el("label", {}, el("input", { type: "checkbox", name: "log", onchange: (e) => { options.log = e.target.checked; redraw(); } }), " log scale"),
      el("label", {}, " smoothing ", el("input", { type: "range", name: "smoothing", min: 0, max: 0.99, step: 0.01, value: 0,
        oninput: (e) => { options.smoothing = Number(e.target.value); redraw(); } })),
      el("span", { class: "muted" }, " drag on a chart to zoom, double-click to reset"));
    return { options, controls };
  }

  // ---- Run details

  function keyValueTable(rows, id) {
    return el("table", { class: "kv", id }, el("tbody", {}, rows.map(([key, value]) => el("tr", {}, el("th", {}, key), el("td", {}, value)))));
  }

  function runHeader(run) {
    const facts = [
      ["id", run.id], ["project", run.project], ["status", badge(run.status)], ["started", run.startTime],
      ["duration", duration(run.durationSeconds)],
    ];
    if (run.tags && run.tags.length) facts.push(["tags", run.tags.join(", ")]);
    if (run.host) facts.push(["host", run.host + (run.pid ? ", pid " + run.pid : "")]);
    if (run.git) facts.push(["git", String(run.git.commit || "").slice(0, 12) + (run.git.dirty ? " (uncommitted changes)" : "")]);
    if (run.device) facts.push(["device", typeof run.device === "object" ? [run.device.kind, run.device.index, run.device.name].filter((v) => v !== undefined).join(" ") : String(run.device)]);
    if (run.sweep) facts.push(["sweep", el("a", { href: "/sweeps/" + encodeURIComponent(run.sweep.id) }, run.sweep.id + (run.sweep.index !== undefined ? " #" + run.sweep.index : ""))]);
    if (run.notes) facts.push(["notes", run.notes]);
    if (run.damage) facts.push(["damaged", run.damage]);
    if (run.unwritten) facts.push(["unwritten", run.unwritten.values + " values could not be written (" + run.unwritten.reason + ")"]);
    const reproduce = [];
    if (run.command && run.command.length) reproduce.push(run.command.map(shellQuote).join(" "));
    const pipeline = run.pipeline;
    if (pipeline && pipeline.configFile && run.command && run.command.length) {
      reproduce.push([run.command[0], "run", pipeline.configFile].concat((pipeline.overrides || []).flatMap((o) => ["--set", o])).map(shellQuote).join(" "));
    }
    if (reproduce.length) facts.push(["reproduce", el("div", {}, reproduce.map((line) => el("code", { class: "command" }, line)))]);
    if (run.workingDirectory) facts.push(["directory", run.workingDirectory]);
    return keyValueTable(facts, "facts");
  }

  function summaryTable(run) {
    const keys = Object.keys(run.summary || {}).sort();
    if (keys.length === 0) return el("p", { class: "muted" }, "no metrics");
    return el("table", { id: "summary" }, el("thead", {}, el("tr", {}, ["metric", "last", "min", "max", "count", "last step"].map((h) => el("th", {}, h)))),
      el("tbody", {}, keys.map((key) => {
        const s = run.summary[key];
        return el("tr", {}, el("td", {}, key), [s.last, s.min, s.max, s.count, s.step].map((v) => el("td", {}, fmt(v === undefined ? undefined : num(v)))));
      })));
  }

  function processesTable(run) {
    const processes = run.pipeline && Array.isArray(run.pipeline.processes) ? run.pipeline.processes : [];
    if (processes.length === 0) return null;
    return el("section", {}, el("h2", {}, "Pipeline " + (run.pipeline.name || "")),
      el("table", { id: "processes" }, el("thead", {}, el("tr", {}, ["process", "type", "status", "time", "error"].map((h) => el("th", {}, h)))),
        el("tbody", {}, processes.map((p) => el("tr", {}, el("td", {}, p.key), el("td", {}, p.type), el("td", {}, badge(p.status || "")),
          el("td", {}, p.seconds !== undefined && p.seconds !== null ? duration(p.seconds) : "—"), el("td", {}, p.error || ""))))));
  }

  function artifactsSection(run) {
    const artifacts = run.artifacts;
    if (!artifacts) return null;
    const list = Array.isArray(artifacts) ? artifacts : Object.entries(artifacts).map(([name, value]) => ({ name, ...(typeof value === "object" ? value : { value }) }));
    if (list.length === 0) return null;
    return el("section", {}, el("h2", {}, "Artifacts"), el("ul", { id: "artifacts" }, list.map((a) =>
      el("li", {}, typeof a === "string" ? a : [a.name || a.path || JSON.stringify(a), a.bytes !== undefined ? " (" + a.bytes + " bytes)" : ""]))));
  }

  function configSection(run) {
    const flat = flatten(run.resolvedConfig || run.config);
    const keys = Object.keys(flat);
    return el("section", {}, el("h2", {}, run.resolvedConfig ? "Config (resolved)" : "Config"),
      keys.length ? keyValueTable(keys.map((key) => [key, fmtPlain(flat[key])]), "config") : el("p", { class: "muted" }, "no config"));
  }

  async function runPage() {
    let run = await getJSON("/api/runs/" + encodeURIComponent(boot.run));
    document.title = run.name + " · tipi";
    const charts = new Map();
    const { options, controls } = chartControls([...charts.values()]);
    const chartsBox = el("div", { class: "charts", id: "charts" });
    const header = el("div");
    const drawHeader = () => {
      clear(header);
      header.append(el("h1", {}, run.name), runHeader(run));
    };
    drawHeader();
    clear(app);
    app.append(header, el("section", {}, el("h2", {}, "Metrics"), controls, chartsBox), el("section", {}, el("h2", {}, "Summary"), summaryTable(run)),
      configSection(run), processesTable(run), artifactsSection(run));
    controls.querySelectorAll("input").forEach((input) => input.addEventListener("input", () => charts.forEach((c) => c.draw())));
    controls.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => charts.forEach((c) => c.draw())));

    async function loadCharts() {
      const names = Object.keys(run.metrics || {}).sort();
      if (names.length === 0 && charts.size === 0) { clear(chartsBox); chartsBox.appendChild(el("p", { class: "muted" }, "no metrics logged")); }
      await Promise.all(names.map(async (name) => {
        let chart = charts.get(name);
        if (!chart) {
          if (charts.size === 0) clear(chartsBox);
          chart = makeChart(name, options);
          charts.set(name, chart);
          chartsBox.appendChild(chart.box);
        }
        const points = await getJSON("/api/runs/" + encodeURIComponent(run.id) + "/metrics/" + encodeURIComponent(name) + "?max_points=2000");
        chart.series = [{ label: run.name, color: COLORS[0], points }];
        chart.draw();
      }));
    }
    await loadCharts();
    if (run.status === "running") {
      setLive("live");
      const timer = setInterval(async () => {
        if (document.hidden) return;
        try {
          run = await getJSON("/api/runs/" + encodeURIComponent(run.id));
          drawHeader();
          await loadCharts();
          if (run.status !== "running") { clearInterval(timer); setLive(""); }
        } catch (error) {
          setLive("offline: " + error.message);
        }
      }, LIVE_MS);
    }
  }

  // ---- Comparing runs

  function configDiff(runs) {
    const flats = runs.map((run) => flatten(run.resolvedConfig || run.config));
    const keys = [...new Set(flats.flatMap((flat) => Object.keys(flat)))].sort();
    const differing = keys.filter((key) => new Set(flats.map((flat) => (key in flat ? JSON.stringify(flat[key]) : "\u0000missing"))).size > 1);
    if (differing.length === 0) return el("p", { class: "muted", id: "config-diff" }, "the configs are the same");
    return el("table", { id: "config-diff" }, el("thead", {}, el("tr", {}, el("th", {}, "key"), runs.map((run, i) => el("th", { class: "series-" + i }, run.name)))),
      el("tbody", {}, differing.map((key) => el("tr", {}, el("td", {}, key), flats.map((flat) => el("td", {}, key in flat ? fmtPlain(flat[key]) : "—"))))));
  }

  function legend(runs) {
    return el("div", { class: "legend" }, runs.map((run, i) => {
      const swatch = el("b", { class: "swatch" });
      swatch.style.backgroundColor = COLORS[i % COLORS.length];
      return el("span", {}, swatch, " ", run.name, " (" + run.id + ")");
    }));
  }

  async function comparePage() {
    const ids = String(boot.runs || "").split(",").filter(Boolean);
    if (ids.length === 0) throw new Error("choose runs on the runs page, then Compare selected");
    const runs = await Promise.all(ids.map((id) => getJSON("/api/runs/" + encodeURIComponent(id))));
    const series = {};
    await Promise.all(runs.map(async (run) => {
      series[run.id] = {};
      await Promise.all(Object.keys(run.metrics || {}).map(async (name) => {
        series[run.id][name] = await getJSON("/api/runs/" + encodeURIComponent(run.id) + "/metrics/" + encodeURIComponent(name) + "?max_points=2000");
      }));
    }));
    drawComparison(runs, series, "Compare " + runs.length + " runs");
  }

  function drawComparison(runs, series, title) {
    const charts = [];
    const { options, controls } = chartControls(charts);
    const box = el("div", { class: "charts", id: "charts" });
    const names = [...new Set(runs.flatMap((run) => Object.keys(series[run.id] || {})))].sort();
    clear(app);
    app.append(el("h1", {}, title), legend(runs),
      el("section", {}, el("h2", {}, "Config differences"), configDiff(runs)),
      el("section", {}, el("h2", {}, "Metrics"), controls, box),
      el("section", {}, el("h2", {}, "Runs"), el("table", { id: "compare-runs" },
        el("thead", {}, el("tr", {}, ["run", "status", "started", "duration"].map((h) => el("th", {}, h)))),
        el("tbody", {}, runs.map((run) => el("tr", {}, el("td", {}, report ? run.name : runLink(run)), el("td", {}, badge(run.status)),
          el("td", {}, run.startTime), el("td", {}, duration(run.durationSeconds))))))));
    for (const name of names) {
      const chart = makeChart(name, options);
      chart.series = runs.filter((run) => series[run.id] && series[run.id][name])
        .map((run) => ({ label: run.name, color: COLORS[runs.indexOf(run) % COLORS.length], points: series[run.id][name] }));
      charts.push(chart);
      box.appendChild(chart.box);
    }
    for (const chart of charts) chart.draw();
    return charts;
  }

  // ---- Sweeps (runs that carry "sweep": {"id": …}); read defensively.

  async function sweepPage() {
    const all = await getJSON("/api/runs");
    const points = all.filter((run) => run.sweep && run.sweep.id === boot.sweep);
    if (points.length === 0) throw new Error("no runs of sweep " + boot.sweep + " in the store");
    const metrics = [...new Set(points.flatMap((run) => Object.keys(run.summary || {})))].sort();
    const params = new URLSearchParams(location.search);
    let metric = params.get("metric") || metrics.find((m) => /loss/i.test(m)) || metrics[0];
    const flats = points.map((run) => flatten(run.config));
    const swept = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort()
      .filter((key) => new Set(flats.map((f) => JSON.stringify(f[key]))).size > 1);
    const value = (run) => (run.summary && run.summary[metric] ? num(run.summary[metric].last) : NaN);
    const stopped = (run) => run.status !== "finished" || (run.sweep && (run.sweep.stoppedEarly || run.sweep.stopped)) || (run.tags || []).includes("early-stopped");
    const draw = () => {
      const sorted = points.slice().sort((a, b) => compareValues(value(a), value(b)));
      clear(app);
      app.append(el("h1", {}, "Sweep " + boot.sweep),
        el("div", { class: "filters" }, el("label", {}, "metric ", el("select", { onchange: (e) => { metric = e.target.value; draw(); } },
          metrics.map((m) => el("option", { value: m, selected: m === metric }, m))))),
        el("table", { id: "sweep-points" }, el("thead", {}, el("tr", {}, ["#", "run", "status", metric].concat(swept).map((h) => el("th", {}, h)))),
          el("tbody", {}, sorted.map((run) => el("tr", { class: stopped(run) ? "stopped" : "" },
            el("td", {}, run.sweep.index !== undefined ? String(run.sweep.index) : ""), el("td", {}, runLink(run)), el("td", {}, badge(run.status)),
            el("td", {}, fmt(value(run))), swept.map((key) => el("td", {}, fmtPlain(flatten(run.config)[key]))))))),
        el("div", { class: "charts" }, swept.map((key) => scatter(points, key, metric, value, stopped))),
        swept.length > 1 ? parallel(points, swept, metric, value, stopped) : null);
    };
    draw();
  }

  function scatter(points, key, metric, value, stopped) {
    const width = 360, height = 240, pad = 40;
    const xs = points.map((run) => num(flatten(run.config)[key]));
    const ys = points.map(value);
    const box = el("div", { class: "chart" }, el("h3", {}, metric + " against " + key));
    const root = svg("svg", { width, height, class: "plot-svg scatter", "data-points": points.length });
    const finite = (list) => list.filter(Number.isFinite);
    const [x0, x1] = [Math.min(...finite(xs)), Math.max(...finite(xs))];
    const [y0, y1] = [Math.min(...finite(ys)), Math.max(...finite(ys))];
    const sx = (x) => pad + ((x - x0) / ((x1 - x0) || 1)) * (width - 2 * pad);
    const sy = (y) => height - pad - ((y - y0) / ((y1 - y0) || 1)) * (height - 2 * pad);
    root.append(svg("text", { x: pad, y: height - 10 }, fmt(x0)), svg("text", { x: width - pad, y: height - 10, "text-anchor": "end" }, fmt(x1)),
      svg("text", { x: 4, y: pad }, fmt(y1)), svg("text", { x: 4, y: height - pad }, fmt(y0)));
    points.forEach((run, i) => {
      if (!Number.isFinite(xs[i]) || !Number.isFinite(ys[i])) return;
      root.appendChild(svg("circle", { cx: sx(xs[i]), cy: sy(ys[i]), r: 5, class: stopped(run) ? "point stopped" : "point" },
        svg("title", {}, run.name + ": " + key + "=" + fmt(xs[i]) + ", " + metric + "=" + fmt(ys[i]))));
    });
    box.appendChild(root);
    return box;
  }

  function parallel(points, keys, metric, value, stopped) {
    const axes = keys.concat([metric]);
    const width = Math.max(400, axes.length * 140), height = 260, pad = 30;
    const columns = axes.map((key) => points.map((run) => (key === metric ? value(run) : num(flatten(run.config)[key]))));
    const root = svg("svg", { width, height, class: "plot-svg parallel" });
    const ax = (i) => pad + (i * (width - 2 * pad)) / Math.max(1, axes.length - 1);
    const ranges = columns.map((c) => { const f = c.filter(Number.isFinite); return [Math.min(...f), Math.max(...f)]; });
    axes.forEach((key, i) => root.append(svg("line", { x1: ax(i), x2: ax(i), y1: pad, y2: height - pad, class: "grid" }),
      svg("text", { x: ax(i), y: 16, "text-anchor": "middle" }, key)));
    points.forEach((run, r) => {
      let d = "";
      axes.forEach((key, i) => {
        const v = columns[i][r];
        if (!Number.isFinite(v)) return;
        const [lo, hi] = ranges[i];
        const y = height - pad - ((v - lo) / ((hi - lo) || 1)) * (height - 2 * pad);
        d += (d ? "L" : "M") + ax(i).toFixed(1) + " " + y.toFixed(1);
      });
      root.appendChild(svg("path", { d, class: stopped(run) ? "line stopped" : "line", stroke: COLORS[r % COLORS.length] }));
    });
    return el("section", {}, el("h2", {}, "Parallel coordinates"), root);
  }

  // ---- A report file: everything is inlined.

  function reportPage() {
    const runs = report.runs;
    const charts = drawComparison(runs, report.series, runs.length === 1 ? runs[0].name : "Report: " + runs.length + " runs");
    for (const run of runs) {
      app.append(el("section", { class: "report-run" }, el("h2", {}, run.name), runHeader(run), el("h3", {}, "Summary"), summaryTable(run),
        configSection(run), processesTable(run), artifactsSection(run)));
    }
    app.appendChild(el("p", { class: "muted" }, "written by tipi report at " + report.generated));
    return charts;
  }

  const pages = { runs: runsPage, run: runPage, compare: comparePage, sweep: sweepPage, report: reportPage };
  const page = pages[boot.page];
  Promise.resolve()
    .then(() => (page ? page() : Promise.reject(new Error("no such page"))))
    .catch(showError)
    .finally(() => document.body.setAttribute("data-ready", "1"));
})();

// facexpr's page: send pictures and videos to this server's API and show what it read. Plain JavaScript, no build.
"use strict";

// The look of pipeline/draw.py: green boxes, red keypoints, white label on green.
const BOX_COLOR = "rgb(60, 200, 80)";
const POINT_COLOR = "rgb(255, 40, 40)";
const POLL_MS = 500;
// Webcam frames are sent at most this wide: 480x360 costs the face detector about two thirds of 640x480, and a face
// at webcam distance stays larger than the 96x96 and 48x48 crops the models read.
const WEBCAM_SEND_WIDTH = 480;
const NO_LABEL = "neutral / other"; // expressions.reading.NO_LABEL

// What the server says at /api/health: its limits, the expression classes and the keypoint names, in order.
const server = { maxUploadMb: 20, classes: [], keypoints: [] };
const $ = (selector, root = document) => root.querySelector(selector);

// ---- the API ----

class ApiError extends Error {}

async function errorOf(response) {
  try {
    const body = await response.json();
    return new ApiError(typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail));
  } catch {
    return new ApiError(`the server answered ${response.status} ${response.statusText}`);
  }
}

async function postFile(url, file, name) {
  const form = new FormData();
  form.append("file", file, name);
  const response = await fetch(url, { method: "POST", body: form });
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

// ---- drawing and tables ----

function drawFaces(context, faces) {
  for (const face of faces) {
    const { x, y, w, h } = face.box;
    context.lineWidth = Math.max(1, Math.round(w / 80));
    context.strokeStyle = BOX_COLOR;
    const crisp = context.lineWidth % 2 ? 0.5 : 0; // an odd width on whole pixels, not blurred across two
    context.strokeRect(x + crisp, y + crisp, w, h);
    const radius = Math.max(1, Math.round(w / 60));
    context.fillStyle = POINT_COLOR;
    for (const [px, py] of Object.values(face.keypoints)) {
      context.beginPath();
      context.arc(px, py, radius, 0, 2 * Math.PI);
      context.fill();
    }
    const size = Math.round(22 * Math.min(1.5, Math.max(0.4, w / 160)));
    context.font = `600 ${size}px system-ui, sans-serif`;
    const text = labelText(face);
    const boxHeight = size + 8;
    const top = y - boxHeight >= 0 ? y - boxHeight : y;
    context.fillStyle = BOX_COLOR;
    context.fillRect(x, top, context.measureText(text).width + 8, boxHeight);
    context.fillStyle = "#fff";
    context.textBaseline = "middle";
    context.fillText(text, x + 4, top + boxHeight / 2 + 1);
  }
}

function percent(p) {
  return `${Math.round(p * 100)}%`;
}

// What pipeline/draw.py writes: the label and its confidence, or "neutral / other" for a face without a label.
function labelText(face) {
  return face.label === null ? NO_LABEL : `${face.label} ${percent(face.confidence)}`;
}

function probabilityBars(face) {
  const bars = document.createElement("div");
  bars.className = "probs";
  for (const [name, p] of Object.entries(face.probabilities)) {
    const label = document.createElement("span");
    label.className = name === face.label ? "cls top" : "cls";
    label.textContent = name;
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = percent(p);
    bar.append(fill);
    const value = document.createElement("span");
    value.className = "pct";
    value.textContent = percent(p);
    bars.append(label, bar, value);
  }
  return bars;
}

function faceRow(face, index) {
  const row = document.createElement("tr");
  const confidence = face.label === null ? "" : percent(face.confidence);
  const cells = [String(index + 1), face.label ?? NO_LABEL, confidence].map((text) => {
    const cell = document.createElement("td");
    cell.textContent = text;
    return cell;
  });
  cells[1].className = "label";
  const bars = document.createElement("td");
  bars.append(probabilityBars(face));
  row.append(...cells, bars);
  return row;
}

// The columns of facexpr's CSV (AnnotationResult.to_dataframe): source, face, box, score, label, confidence,
// p_<class> for each class, then x and y of each keypoint (the header alone when there is no face).
function csvOf(result) {
  const { classes, keypoints } = server;
  const header = ["source", "face", "x", "y", "w", "h", "score", "label", "confidence",
    ...classes.map((c) => `p_${c}`), ...keypoints.flatMap((n) => [`${n}_x`, `${n}_y`])];
  const rows = result.faces.map((f, i) => [result.source, i, f.box.x, f.box.y, f.box.w, f.box.h, f.score, f.label,
    f.confidence, ...classes.map((c) => f.probabilities[c]), ...keypoints.flatMap((n) => f.keypoints[n])]);
  const quote = (value) => {
    const text = String(value ?? ""); // no label: empty label and confidence, as pandas writes them
    return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [header, ...rows].map((row) => row.map(quote).join(",")).join("\n") + "\n";
}

function stem(name) {
  return name.replace(/\.[^.]*$/, "") || "picture";
}

function link(anchor, blob, filename) {
  anchor.href = URL.createObjectURL(blob);
  anchor.download = filename;
}

// ---- photos ----

// The photo with its faces drawn; a format this browser cannot show (TIFF) is drawn by the server instead.
async function showPicture(canvas, file, faces) {
  let picture;
  let drawn = false;
  try {
    picture = await createImageBitmap(file);
  } catch {
    const png = await (await postFile("/api/annotate?image=png", file, file.name)).blob();
    picture = await createImageBitmap(png);
    drawn = true;
  }
  canvas.width = picture.width;
  canvas.height = picture.height;
  const context = canvas.getContext("2d");
  context.drawImage(picture, 0, 0);
  if (!drawn) drawFaces(context, faces);
}

async function readPhoto(file) {
  const card = $("#photo-card").content.firstElementChild.cloneNode(true);
  $(".name", card).textContent = file.name;
  $("#results").prepend(card);
  const summary = $(".summary", card);
  try {
    if (file.size > server.maxUploadMb * 1e6) {
      const size = (file.size / 1e6).toFixed(1);
      throw new ApiError(`${file.name} is ${size} MB; this server takes at most ${server.maxUploadMb} MB`);
    }
    const response = await postFile("/api/annotate", file, file.name);
    const text = await response.text();
    const result = JSON.parse(text);
    const canvas = $(".picture", card);
    await showPicture(canvas, file, result.faces);
    const count = result.faces.length;
    summary.textContent = count === 1 ? "1 face" : `${count} faces`;
    const body = $(".faces tbody", card);
    result.faces.forEach((face, i) => body.append(faceRow(face, i)));
    $(".faces", card).hidden = count === 0;
    const png = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
    link($("a.png", card), png, `${stem(file.name)}_annotated.png`);
    link($("a.csv", card), new Blob([csvOf(result)], { type: "text/csv" }), `${stem(file.name)}.csv`);
    link($("a.json", card), new Blob([text], { type: "application/json" }), `${stem(file.name)}.json`);
    $(".downloads", card).hidden = false;
    card.classList.add("done");
  } catch (error) {
    card.classList.add("failed");
    summary.textContent = error.message;
  }
}

// ---- videos ----

async function readVideo(file) {
  const card = $("#video-card").content.firstElementChild.cloneNode(true);
  $(".name", card).textContent = file.name;
  $("#results").prepend(card);
  const summary = $(".summary", card);
  const bar = $("progress", card);
  try {
    let job = await (await postFile("/api/video", file, file.name)).json();
    while (job.state === "queued" || job.state === "running") {
      summary.textContent = job.state === "queued" ? "waiting for the videos before it"
        : `frame ${job.frames}${job.total ? ` of ${job.total}` : ""}`;
      if (job.progress !== null) bar.value = job.progress; else bar.removeAttribute("value");
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      job = await getJson(`/api/jobs/${job.id}`);
    }
    if (job.state === "failed") throw new ApiError(job.error);
    bar.value = 1;
    bar.hidden = true;
    summary.textContent = `${job.frames} frames`;
    const video = $("video", card);
    video.src = job.video;
    video.hidden = false;
    video.play().catch(() => {}); // autoplay may be refused; the controls remain
    Object.assign($("a.webm", card), { href: job.video, download: `${stem(file.name)}_annotated.webm` });
    Object.assign($("a.csv", card), { href: job.csv, download: `${stem(file.name)}_annotated.csv` });
    $(".downloads", card).hidden = false;
    card.classList.add("done");
  } catch (error) {
    bar.hidden = true;
    card.classList.add("failed");
    summary.textContent = error.message;
  }
}

async function readFiles(files) {
  for (const file of files) {
    if (file.type.startsWith("video/")) readVideo(file); // runs on the server; the page polls it meanwhile
    else await readPhoto(file); // photos one at a time, in order
  }
}

// ---- webcam: frames sent one at a time, the faces drawn back on them ----

const webcam = { stream: null, running: false, session: 0 }; // a new session ends the loop of the one before

async function startWebcam() {
  const section = $("#webcam");
  const readout = $("#webcam-fps");
  section.hidden = false;
  readout.textContent = "starting…";
  delete readout.dataset.fps;
  if (!navigator.mediaDevices?.getUserMedia) {
    readout.textContent = "this browser gives no camera here (open the page as http://127.0.0.1 or localhost)";
    return;
  }
  try {
    webcam.stream = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 }, audio: false });
  } catch (error) {
    readout.textContent = `no camera: ${error.message}`;
    return;
  }
  const video = $("#webcam-video");
  video.srcObject = webcam.stream;
  await video.play();
  webcam.running = true;
  const session = ++webcam.session;
  const view = $("#webcam-view");
  const shown = document.createElement("canvas"); // the frame as the camera gave it, drawn once its faces are back
  const sent = document.createElement("canvas"); // the same frame, at most WEBCAM_SEND_WIDTH wide
  const scale = Math.min(1, WEBCAM_SEND_WIDTH / video.videoWidth);
  shown.width = view.width = video.videoWidth;
  shown.height = view.height = video.videoHeight;
  sent.width = Math.round(video.videoWidth * scale);
  sent.height = Math.round(video.videoHeight * scale);
  const times = [];
  while (webcam.running && webcam.session === session) {
    shown.getContext("2d").drawImage(video, 0, 0);
    sent.getContext("2d").drawImage(shown, 0, 0, sent.width, sent.height);
    const frame = await new Promise((resolve) => sent.toBlob(resolve, "image/jpeg", 0.85));
    let result;
    try {
      result = await (await postFile("/api/annotate", frame, "webcam.jpg")).json();
    } catch (error) {
      readout.textContent = error.message;
      if (webcam.session === session) releaseCamera();
      return;
    }
    const context = view.getContext("2d");
    context.drawImage(shown, 0, 0);
    context.save();
    context.scale(1 / scale, 1 / scale); // the faces' pixels are those of the frame sent
    drawFaces(context, result.faces);
    context.restore();
    const now = performance.now();
    times.push(now);
    while (times.length > 1 && now - times[0] > 2000) times.shift();
    if (times.length > 1) {
      const fps = (times.length - 1) / ((now - times[0]) / 1000);
      const faces = result.faces.length === 1 ? "1 face" : `${result.faces.length} faces`;
      readout.textContent = `${fps.toFixed(1)} frames/s · ${faces} · sent at ${sent.width}x${sent.height}`;
      readout.dataset.fps = fps.toFixed(2);
    }
  }
  if (webcam.session === session) releaseCamera();
}

function releaseCamera() {
  webcam.running = false;
  webcam.stream?.getTracks().forEach((track) => track.stop());
  webcam.stream = null;
}

function stopWebcam() {
  releaseCamera();
  $("#webcam").hidden = true;
}

// ---- the page ----

async function showHealth() {
  const status = $("#status");
  try {
    const health = await getJson("/api/health");
    Object.assign(server, { maxUploadMb: health.max_upload_mb, classes: health.classes, keypoints: health.keypoints });
    status.textContent = `ready: reads ${health.classes.join(", ")}`;
    $("#limits").textContent = `Up to ${health.max_upload_mb} MB and ${health.max_megapixels} megapixels a file.`;
  } catch (error) {
    status.textContent = `the server does not answer: ${error.message}`;
    status.classList.add("error");
  }
}

function setUp() {
  const drop = $("#drop");
  const input = $("#files");
  input.addEventListener("change", () => {
    readFiles([...input.files]);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"]) {
    drop.addEventListener(type, () => drop.classList.remove("over"));
  }
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    readFiles([...event.dataTransfer.files]);
  });
  $("#camera-start").addEventListener("click", () => {
    if ($("#webcam").hidden) startWebcam(); // once open, Stop closes it first
  });
  $("#camera-stop").addEventListener("click", stopWebcam);
  showHealth();
}

setUp();

/* labeld.js: keys, box drawing and prefetching on the labeling page
 * (label.html, answer_edit.html).  Plain JS on top of plain forms that work without it;
 * docs/labeling.md lists the keys. */
(function () {
'use strict';
var id = document.getElementById.bind(document), form = id('labelform');
if (!form)
	return;
document.documentElement.classList.add('js');
var mode = form.dataset.inputMode, $ = form.querySelector.bind(form);
if (form.dataset.prefetch)
	new Image().src = form.dataset.prefetch;   /* the likely next image */

/* Boxes: drag on #bbox-stage; one hidden "x,y,w,h,label" input per box
 * in #bbox-boxes, drawn as SVG rects in #bbox-overlay (image pixels).
 * The image fits beside the class list (at most 2x); + - 0 and the zoom
 * buttons zoom, its parent .bbox-scroll scrolls. */
var stage = id('bbox-stage'), svg = id('bbox-overlay'), list = id('bbox-boxes'), box = stage && stage.parentNode;
var boxes = [], undo = [], edited = false, sel = -1, drag = null, mouse, W, H, MIN, FS, img, Z, fit;
var RADIO = 'input[type=radio][name=label]', ZB = 'button[name=zoomto]';

/* The class name of label id v: the text after its radio button. */
function name(v) {
	var r = $(RADIO + '[value="' + v + '"]'), t = r && r.parentNode.lastChild;
	return t && t.nodeType === 3 ? t.nodeValue.trim() : '';
}
function set(e, attrs) {
	for (var k in attrs)
		e.setAttribute(k, attrs[k]);
	return e;
}
function el(tag, attrs) {
	return svg.appendChild(set(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs));
}
/* The box spanned by two points. */
function span(a, b) {
	return { x: Math.min(a.x, b.x), y: Math.min(a.y, b.y),
		w: Math.abs(b.x - a.x), h: Math.abs(b.y - a.y) };
}
function r1(v) { return Math.round(v * 10) / 10; }
function cl(v, a, b) { return Math.max(a, Math.min(b, v)); }
/* After any change of the answer a refused answer's sentence no longer
 * applies: hidden, keeping its place (the image must not move under the
 * mouse). */
function calm() {
	document.querySelectorAll('.flash.error').forEach(function (f) { f.style.visibility = 'hidden'; });
}
form.addEventListener('change', calm);
/* Before a change of the boxes: for Z. */
function save() {
	undo.push(JSON.stringify(boxes));
	edited = true;
	calm();
}
/* Captions as the no-JS page draws them: the class name, FS (the svg's
 * font-size) in image pixels. */
function draw() {
	svg.textContent = '';
	list.querySelectorAll('input[name=box]').forEach(function (n) { n.remove(); });
	boxes.forEach(function (b, i) {
		el('rect', { x: b.x, y: b.y, width: b.w, height: b.h, 'class': i === sel ? 'sel' : '' });
		el('text', { x: b.x + FS / 4, y: b.y + FS }).textContent = name(b.l);
		list.appendChild(set(document.createElement('input'),
			{ type: 'hidden', name: 'box', value: [b.x, b.y, b.w, b.h, b.l].join(',') }));
	});
}
/* A mouse position in image pixels, inside the part the scroll box shows. */
function at(e) {
	var r = img.getBoundingClientRect(), v = box.getBoundingClientRect(),
		l = v.left + box.clientLeft, t = v.top + box.clientTop;
	return { x: cl((cl(e.clientX, l, l + box.clientWidth) - r.left) * W / r.width, 0, W),
		y: cl((cl(e.clientY, t, t + box.clientHeight) - r.top) * H / r.height, 0, H) };
}
/* The scale that fits the image beside the class list and above the
 * window's bottom (where the scroll box ends), at most 2. */
function fitScale() {
	var h = Math.max(200, innerHeight - box.getBoundingClientRect().top - scrollY - 24);
	box.style.maxHeight = h + 'px';
	return Math.min((box.parentNode.clientWidth - 2) / W, (h - 2) / H, 2);
}
/* Show the image at scale z (0: fit), keeping the image point under the
 * mouse (or the box's middle) in its place. */
function zoom(z) {
	var f = fitScale(), v = box.getBoundingClientRect(), m = mouse, p;
	if (!m || m.x < v.left || m.x > v.right || m.y < v.top || m.y > v.bottom)
		m = { clientX: v.left + box.clientWidth / 2, clientY: v.top + box.clientHeight / 2 };
	p = at(m);
	fit = !z;
	Z = z || f;
	img.width = Math.round(W * Z);
	img.height = Math.round(H * Z);
	box.scrollLeft = p.x * Z - m.clientX + v.left + box.clientLeft;
	box.scrollTop = p.y * Z - m.clientY + v.top + box.clientTop;
	svg.setAttribute('font-size', FS = 14 / Z);
	form.querySelectorAll(ZB).forEach(function (b) {
		b.setAttribute('aria-pressed', fit ? b.value === 'fit' : b.value / 100 === Z);
	});
	draw();
}
/* The next zoom (d > 0: larger) among the zoom buttons'. */
function step(d) {
	var f = fitScale(), n = 0;
	form.querySelectorAll(ZB).forEach(function (b) {
		var v = b.value === 'fit' ? f : b.value / 100;
		if (d > 0 ? v > Z * 1.001 && (!n || v < n) : v < Z * 0.999 && v > n)
			n = v;
	});
	if (n)
		zoom(n === f ? 0 : n);
}
function hit(p) {
	for (var i = boxes.length - 1; i >= 0; i--) {
		var b = boxes[i];
		if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h)
			return i;
	}
	return -1;
}

if (mode === 'boxes' && stage && svg && list && box && (img = stage.querySelector('input'))) {
	W = +stage.dataset.width;
	H = +stage.dataset.height;
	MIN = Math.max(2, +stage.dataset.minBox || 0);
	set(svg, { viewBox: '0 0 ' + W + ' ' + H, preserveAspectRatio: 'none' });
	list.querySelectorAll('input[name=box]').forEach(function (n) {
		var v = n.value.split(',').map(Number);
		if (v.length === 5 && v.every(isFinite))
			boxes.push({ x: v[0], y: v[1], w: v[2], h: v[3], l: String(v[4]) });
	});
	zoom(0);
	addEventListener('resize', function () { fit ? zoom(0) : fitScale(); });
	form.addEventListener('click', function (e) {
		var b = e.target.closest(ZB);
		if (b) {
			e.preventDefault();
			zoom(b.value === 'fit' ? 0 : b.value / 100);
		}
	});
	/* With JS a click draws; it never sends the no-JS corner click. */
	['click', 'dragstart'].forEach(function (t) {
		stage.addEventListener(t, function (e) { e.preventDefault(); });
	});
	stage.addEventListener('mousedown', function (e) {
		if (e.button === 0) {
			e.preventDefault();
			drag = { a: at(e), r: el('rect', { 'class': 'new' }) };
		}
	});
	addEventListener('mousemove', function (e) {
		mouse = e;
		if (!drag)
			return;
		var s = span(drag.a, at(e));
		set(drag.r, { x: s.x, y: s.y, width: s.w, height: s.h });
	});
	addEventListener('mouseup', function (e) {
		if (!drag)
			return;
		var a = drag.a, s = span(a, at(e)), r = $(RADIO + ':checked') || $(RADIO),
			no = $('input[name=noobjects]'), x = r1(s.x), y = r1(s.y);
		drag = null;
		/* Shorter than MIN image or 3 screen pixels: a click. */
		if (s.w < MIN || s.h < MIN || s.w * Z < 3 || s.h * Z < 3) {
			sel = hit(a);        /* a click selects a box (or none) */
		} else {
			save();
			/* Corners rounded: x + w stays inside the image. */
			boxes.push({ x: x, y: y, w: r1(r1(s.x + s.w) - x), h: r1(r1(s.y + s.h) - y), l: r ? r.value : '0' });
			sel = boxes.length - 1;
			if (no)
				no.checked = false;
		}
		draw();
	});
}

/* Keys: 1-9 choose/toggle a class (or set the selected box's), Enter
 * submits, S skips, Z Back; for boxes Delete removes the selected one,
 * Z undoes (Back while no box was changed), + - 0 zoom. */
document.addEventListener('keydown', function (e) {
	var t = e.target, k = e.key, r;
	if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || t.isContentEditable ||
		/^(TEXTAREA|SELECT)$/.test(t.tagName) ||
		(t.tagName === 'INPUT' && /^(text|number|search|email|url|password)$/.test(t.type)))
		return;
	if (k >= '1' && k <= '9' && (r = $('input[data-key="' + k + '"]'))) {
		r.checked = mode === 'toggle' ? !r.checked : true;
		calm();
		if (mode === 'boxes' && boxes[sel]) {
			save();
			boxes[sel].l = r.value;
			draw();
		}
	} else if (k === 'Enter' && !/^(BUTTON|A)$/.test(t.tagName)) {
		id('submit-button').click();
	} else if ((k === 's' || k === 'S') && (r = id('skip-button'))) {
		r.click();
	} else if (mode === 'boxes' && (k === 'Delete' || k === 'Backspace') && boxes[sel]) {
		save();
		boxes.splice(sel, 1);
		sel = -1;
		draw();
	} else if (mode === 'boxes' && (k === 'z' || k === 'Z') && undo.length) {
		boxes = JSON.parse(undo.pop());
		sel = -1;
		draw();
	} else if ((k === 'z' || k === 'Z') && !edited && (r = id('back-button'))) {
		location.href = r.href;
	} else if (Z && (k === '+' || k === '=' || k === '-')) {
		step(k === '-' ? -1 : 1);
	} else if (Z && k === '0') {
		zoom(0);
	} else {
		return;
	}
	e.preventDefault();
});
})();

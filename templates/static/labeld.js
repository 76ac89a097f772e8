/* labeld.js: keys, box drawing and prefetching on the labeling page
 * (label.html).  Plain JS on top of plain forms that work without it;
 * docs/labeling.md lists the keys. */
(function () {
'use strict';
var form = document.getElementById('labelform');
if (!form)
	return;
document.documentElement.classList.add('js');
var mode = form.dataset.inputMode, $ = form.querySelector.bind(form);
if (form.dataset.prefetch)
	new Image().src = form.dataset.prefetch;   /* the likely next image */

/* Boxes: drag on #bbox-stage; one hidden "x,y,w,h,label" input per box
 * in #bbox-boxes, drawn as SVG rects in #bbox-overlay (image pixels). */
var stage = document.getElementById('bbox-stage'), svg = document.getElementById('bbox-overlay');
var list = document.getElementById('bbox-boxes'), boxes = [], undo = [], sel = -1, drag = null;
var W, H, MIN, NS = 'http://www.w3.org/2000/svg';

function radio(v) { return $('input[type=radio][name=label][value="' + v + '"]'); }
function el(tag, attrs, parent) {
	var e = document.createElementNS(NS, tag);
	for (var k in attrs)
		e.setAttribute(k, attrs[k]);
	return parent.appendChild(e);
}
function r1(v) { return Math.round(v * 10) / 10; }
function save() { undo.push(JSON.stringify(boxes)); }
function draw() {
	var fs = Math.max(W, H) / 40;
	svg.textContent = '';
	list.querySelectorAll('input[name=box]').forEach(function (n) { n.remove(); });
	boxes.forEach(function (b, i) {
		var r = radio(b.l), inp = document.createElement('input');
		el('rect', { x: b.x, y: b.y, width: b.w, height: b.h, 'class': i === sel ? 'sel' : '' }, svg);
		el('text', { x: b.x + fs / 4, y: b.y + fs, 'font-size': fs }, svg).textContent =
			r ? r.dataset.key || '' : '';
		inp.type = 'hidden';
		inp.name = 'box';
		inp.value = [b.x, b.y, b.w, b.h, b.l].join(',');
		list.appendChild(inp);
	});
}
/* A mouse position in image pixels, kept inside the image. */
function at(e) {
	var rc = (stage.querySelector('img,input[type=image]') || stage).getBoundingClientRect();
	return {
		x: Math.max(0, Math.min(W, (e.clientX - rc.left) * W / rc.width)),
		y: Math.max(0, Math.min(H, (e.clientY - rc.top) * H / rc.height))
	};
}
function hit(p) {
	for (var i = boxes.length - 1; i >= 0; i--) {
		var b = boxes[i];
		if (p.x >= b.x && p.x <= b.x + b.w && p.y >= b.y && p.y <= b.y + b.h)
			return i;
	}
	return -1;
}

if (mode === 'boxes' && stage && svg && list) {
	W = +(stage.dataset.width || form.dataset.width);
	H = +(stage.dataset.height || form.dataset.height);
	MIN = Math.max(2, +stage.dataset.minBox || 0);
	svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
	svg.setAttribute('preserveAspectRatio', 'none');
	list.querySelectorAll('input[name=box]').forEach(function (n) {
		var v = n.value.split(',').map(Number);
		if (v.length === 5 && v.every(isFinite))
			boxes.push({ x: v[0], y: v[1], w: v[2], h: v[3], l: String(v[4]) });
	});
	draw();
	/* With JS a click draws; it never sends the no-JS corner click. */
	['click', 'dragstart'].forEach(function (t) {
		stage.addEventListener(t, function (e) { e.preventDefault(); });
	});
	stage.addEventListener('mousedown', function (e) {
		if (e.button === 0) {
			e.preventDefault();
			drag = { a: at(e), r: el('rect', { 'class': 'new' }, svg) };
		}
	});
	addEventListener('mousemove', function (e) {
		if (!drag)
			return;
		var a = drag.a, b = at(e);
		[['x', Math.min(a.x, b.x)], ['y', Math.min(a.y, b.y)], ['width', Math.abs(b.x - a.x)],
			['height', Math.abs(b.y - a.y)]].forEach(function (kv) { drag.r.setAttribute(kv[0], kv[1]); });
	});
	addEventListener('mouseup', function (e) {
		if (!drag)
			return;
		var a = drag.a, b = at(e), r = $('input[type=radio][name=label]:checked') ||
			$('input[type=radio][name=label]'), no = $('input[name=noobjects]');
		drag = null;
		if (Math.abs(b.x - a.x) < MIN || Math.abs(b.y - a.y) < MIN) {
			sel = hit(a);        /* a click selects a box (or none) */
		} else {
			save();
			boxes.push({ x: r1(Math.min(a.x, b.x)), y: r1(Math.min(a.y, b.y)),
				w: r1(Math.abs(b.x - a.x)), h: r1(Math.abs(b.y - a.y)), l: r ? r.value : '0' });
			sel = boxes.length - 1;
			if (no)
				no.checked = false;
		}
		draw();
	});
}

/* Keys: 1-9 choose/toggle a class (or set the selected box's), Enter
 * submits, S skips; for boxes Delete removes the selected one, Z undoes. */
document.addEventListener('keydown', function (e) {
	var t = e.target, k = e.key, r;
	if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || t.isContentEditable ||
		/^(TEXTAREA|SELECT)$/.test(t.tagName) ||
		(t.tagName === 'INPUT' && /^(text|number|search|email|url|password)$/.test(t.type)))
		return;
	if (k >= '1' && k <= '9' && (r = $('input[data-key="' + k + '"]'))) {
		r.checked = mode === 'toggle' ? !r.checked : true;
		if (mode === 'boxes' && boxes[sel]) {
			save();
			boxes[sel].l = r.value;
			draw();
		}
	} else if (k === 'Enter' && !/^(BUTTON|A)$/.test(t.tagName)) {
		document.getElementById('submit-button').click();
	} else if (k === 's' || k === 'S') {
		document.getElementById('skip-button').click();
	} else if (mode === 'boxes' && (k === 'Delete' || k === 'Backspace') && boxes[sel]) {
		save();
		boxes.splice(sel, 1);
		sel = -1;
		draw();
	} else if (mode === 'boxes' && (k === 'z' || k === 'Z') && undo.length) {
		boxes = JSON.parse(undo.pop());
		sel = -1;
		draw();
	} else {
		return;
	}
	e.preventDefault();
});
})();

/* upload.js: the wizard's upload step (wizard_upload.html) sends the chosen
 * images one request per file instead of one request for all of them: a
 * progress bar (files and bytes), a retry of a request that failed (no
 * answer, or 5xx) up to 3 times with a growing pause, the files that still
 * failed listed with "Retry failed"; then the step page again, which says
 * what was received and refused.  Each request is the form's own POST with
 * the other fields and one file, asking for JSON (Accept: application/json;
 * docs/projects.md).  Without this script the plain multipart form works
 * unchanged; Back, and Next with no file chosen, are left to it. */
(function () {
'use strict';
var form = document.getElementById('wizard'), input = document.getElementById('files');
if (!form || !input || input.type !== 'file' || !window.FormData || !window.XMLHttpRequest)
	return;

var RETRIES = 3, PAUSE_MS = 1000;
var box, bar, status, stopped, failedBox, failedList, retryButton, doneButton;
var fields = [], pressed = null, total = 0, sent = 0, files = 0, busy = false;

function el(tag, attrs, text) {
	var e = document.createElement(tag);
	for (var k in attrs)
		e.setAttribute(k, attrs[k]);
	if (text)
		e.textContent = text;
	return e;
}

/* 1536 -> "1.5 KiB", as the step page writes sizes (wizard.c bytes_text). */
function size(n) {
	var units = ['KiB', 'MiB', 'GiB', 'TiB'], u = -1;
	if (n < 1024)
		return n + (n === 1 ? ' byte' : ' bytes');
	while (n >= 1024 && u < units.length - 1) {
		n /= 1024;
		u++;
	}
	return n.toFixed(1) + ' ' + units[u];
}

/* The progress box, made once, before the Back/Next buttons: a labelled
 * <progress>, a polite live region for the sentences, and the list of
 * files that failed with its buttons (type=button: they never submit). */
function build() {
	if (box)
		return;
	box = el('div', { id: 'upload-progress', 'class': 'upload-progress', hidden: '' });
	box.appendChild(el('label', { 'for': 'upload-bar' }, 'Upload progress'));
	bar = box.appendChild(el('progress', { id: 'upload-bar', max: '1', value: '0' }));
	status = box.appendChild(el('p', { id: 'upload-status', role: 'status', 'aria-live': 'polite' }));
	stopped = box.appendChild(el('p', { id: 'upload-stopped', 'class': 'flash error', role: 'alert', hidden: '' }));
	failedBox = box.appendChild(el('div', { id: 'upload-failed', 'class': 'upload-failed', hidden: '' }));
	failedBox.appendChild(el('p', { 'class': 'flash error' },
		'These files did not arrive; the others did. Retry them, or go on without them.'));
	failedList = failedBox.appendChild(el('ul', {}));
	retryButton = failedBox.appendChild(el('button', { type: 'button', id: 'upload-retry' }, 'Retry failed'));
	doneButton = failedBox.appendChild(el('button', { type: 'button', id: 'upload-done' }, 'Go on without them'));
	retryButton.addEventListener('click', function () {
		var again = failedFiles();
		collect(pressed);
		start(again);
	});
	doneButton.addEventListener('click', reload);
	var nav = form.querySelector('.wizard-nav');
	form.insertBefore(box, nav);
}

function say(text) {
	status.textContent = text;
}

function show() {
	bar.max = Math.max(total, 1);
	bar.value = Math.min(sent, bar.max);
	bar.textContent = Math.round(100 * bar.value / bar.max) + ' %';
}

/* While files go up, the form cannot be sent again and leaving the page
 * asks first. */
function lock(on) {
	busy = on;
	form.querySelectorAll('button, input, textarea, select').forEach(function (e) {
		if (!box.contains(e))
			e.disabled = on;
	});
}
window.addEventListener('beforeunload', function (e) {
	if (busy) {
		e.preventDefault();
		e.returnValue = '';
	}
});

function reload() {
	busy = false;
	window.location.assign(form.action);
}

/* One try of one file.  done(outcome): {ok: answer} for 200 with JSON,
 * {retry: why} for no answer or 5xx, {fail: sentence} for a 413 (this file
 * is too large), {stop: sentence} for any other 4xx or an answer that is
 * not the JSON asked for (the session ended, the CSRF token is stale, the
 * folder is refused: the other files would fare the same). */
/* The file's upload key: random, made at its first try and sent with every
 * try, so that a file whose answer was lost is not stored twice (the
 * server answers a known key with what it stored then). */
var keys = typeof WeakMap === 'function' ? new WeakMap() : null;
function keyOf(file) {
	var k = keys && keys.get(file);
	if (!k && window.crypto && window.crypto.getRandomValues) {
		var b = new Uint8Array(18);
		window.crypto.getRandomValues(b);
		k = btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, '-').replace(/\//g, '_');
		if (keys)
			keys.set(file, k);
	}
	return k;
}

function send(file, before, done) {
	var fd = new FormData(), xhr = new XMLHttpRequest(), key = keyOf(file);
	fields.forEach(function (f) { fd.append(f[0], f[1]); });
	if (key)
		fd.append('upload_key', key);
	fd.append('files', file, file.name);
	xhr.open('POST', form.action);
	xhr.setRequestHeader('Accept', 'application/json');
	xhr.upload.addEventListener('progress', function (e) {
		sent = before + Math.min(e.loaded, file.size);
		show();
	});
	xhr.addEventListener('error', function () { done({ retry: 'no answer from the server' }); });
	xhr.addEventListener('timeout', function () { done({ retry: 'the server took too long' }); });
	xhr.addEventListener('abort', function () { done({ retry: 'the request was cut off' }); });
	xhr.addEventListener('load', function () {
		var answer = null, s = xhr.status;
		try {
			answer = JSON.parse(xhr.responseText);
		} catch (err) {
			answer = null;
		}
		var said = answer && typeof answer.error === 'string' ? answer.error : '';
		if (s >= 500)
			done({ retry: said || 'the server answered ' + s });
		else if (s === 413)
			done({ fail: said || 'larger than the server accepts' });
		else if (s >= 400)
			done({ stop: said || 'The server refused the upload (' + s + '); reload the page and try again.' });
		else if (s !== 200 || !answer || !Array.isArray(answer.stored))
			done({ stop: 'The server\'s answer was not understood (were you signed out?); reload the page.' });
		else
			done({ ok: answer });
	});
	xhr.send(fd);
}

/* After a stop or a failure, the file input holds only the files not
 * stored yet, so that Next (once the cause is fixed) sends none twice. */
function keep(rest) {
	try {
		var dt = new DataTransfer();
		rest.forEach(function (f) { dt.items.add(f); });
		input.files = dt.files;
	} catch (err) {
		/* An older browser: Next sends them all again. */
	}
}

/* The form's other fields as they are now, and the button pressed. */
function collect(go) {
	fields = [];
	new FormData(form).forEach(function (v, k) {
		if (k !== 'files')
			fields.push([k, v]);
	});
	if (go && go.name)
		fields.push([go.name, go.value]);
}

function failedFiles() {
	var out = [];
	failedList.querySelectorAll('li').forEach(function (li) { out.push(li.file); });
	return out;
}

function failed(file, why) {
	var li = el('li', {});
	li.appendChild(el('code', {}, file.name));
	li.appendChild(document.createTextNode(': ' + why));
	li.file = file;
	failedList.appendChild(li);
}

/* Send the files one after the other; then reload, or list the ones that
 * failed. */
function start(list) {
	var i = 0, tries = 0, received = 0, refused = 0, before = 0, server = null;
	build();
	failedList.textContent = '';
	failedBox.hidden = true;
	stopped.hidden = true;
	box.hidden = false;
	total = 0;
	list.forEach(function (f) { total += f.size; });
	sent = 0;
	files = list.length;
	lock(true);
	show();
	function next() {
		if (i === list.length)
			return finish();
		say('Uploading ' + list[i].name + ' (' + (i + 1) + ' of ' + files + ' files, ' +
			size(before) + ' of ' + size(total) + ' sent)' + (tries ? ', try ' + (tries + 1) : '') + '…');
		send(list[i], before, function (r) {
			if (r.retry && tries < RETRIES) {
				tries++;
				sent = before;
				show();
				say(list[i].name + ': ' + r.retry + '; trying again (' + tries + ' of ' + RETRIES + ')…');
				window.setTimeout(next, PAUSE_MS * Math.pow(2, tries - 1));
				return;
			}
			if (r.stop) {
				keep(failedFiles().concat(list.slice(i)));
				lock(false);
				say(received + ' of ' + files + ' files stored before the upload stopped.');
				stopped.textContent = r.stop;
				stopped.hidden = false;
				return;
			}
			if (r.ok) {
				received += r.ok.stored.length;
				refused += Array.isArray(r.ok.refused) ? r.ok.refused.length : 0;
				server = r.ok;
			} else {
				failed(list[i], r.retry || r.fail);
			}
			before += list[i].size;
			sent = before;
			show();
			i++;
			tries = 0;
			next();
		});
	}
	function finish() {
		var n = failedList.children.length, text = received + ' of ' + files + ' files stored' +
			(refused ? ', ' + refused + ' refused' : '') + (n ? ', ' + n + ' failed' : '') + '.';
		if (server && typeof server.files === 'number')
			text += ' The dataset has ' + server.files + ' files (' + size(server.bytes || 0) + ') so far.';
		lock(false);
		if (n === 0) {
			say(text + ' Showing the summary…');
			reload();
			return;
		}
		keep(failedFiles());
		say(text);
		failedBox.hidden = false;
		retryButton.focus();
	}
	next();
}

form.addEventListener('submit', function (e) {
	var go = e.submitter;
	if (busy) {
		e.preventDefault();
		return;
	}
	if (!input.files || input.files.length === 0 || (go && go.name === 'go' && go.value === 'back'))
		return;
	e.preventDefault();
	pressed = go || null;
	collect(pressed);
	start(Array.prototype.slice.call(input.files));
});
})();

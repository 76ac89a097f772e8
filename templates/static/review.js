/* review.js: the keys of the review queue (review.html), on top of a
 * plain form that works without it: A approves, R puts the cursor in the
 * reason (Enter there rejects: the form's first button), S skips;
 * docs/review.md lists them. */
(function () {
'use strict';
var form = document.getElementById('reviewform');
if (!form)
	return;
document.documentElement.classList.add('js');
var reason = document.getElementById('reason');
document.addEventListener('keydown', function (e) {
	var t = e.target, k = e.key;
	if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented || t.isContentEditable ||
		/^(TEXTAREA|SELECT|INPUT)$/.test(t.tagName))
		return;
	if (k === 'a' || k === 'A')
		document.getElementById('approve-button').click();
	else if (k === 's' || k === 'S')
		document.getElementById('skip-button').click();
	else if (k === 'r' || k === 'R')
		reason.focus();
	else
		return;
	e.preventDefault();
});
/* Enter in the reason rejects; Escape leaves it for the keys. */
reason.addEventListener('keydown', function (e) {
	if (e.key === 'Escape')
		reason.blur();
});
})();

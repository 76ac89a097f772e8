/* data.js: the Data tab's "All on this page" ticks every item's box (and
 * a box unticked unticks it); Enter on a box does nothing (without this,
 * the form's hidden default button answers that it did nothing).  The
 * form works without it: the server takes every item of the page when
 * "all" is sent (handlers/data.c). */
(function () {
'use strict';
var all = document.getElementById('select-all'), grid = document.getElementById('datagrid');
if (!all || !grid)
	return;
var boxes = grid.querySelectorAll('input[type=checkbox][name=item]');
all.form.addEventListener('keydown', function (e) {
	if (e.key === 'Enter' && e.target.type === 'checkbox')
		e.preventDefault();
});
all.addEventListener('change', function () {
	boxes.forEach(function (b) { b.checked = all.checked; });
});
boxes.forEach(function (b) {
	b.addEventListener('change', function () {
		if (!b.checked)
			all.checked = false;
	});
});
})();

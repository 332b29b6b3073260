/* histodata catalog: filter as you type, facet selects and sortable columns. No network, no library. */
(function () {
  "use strict";

  function setup() {
    var table = document.getElementById("hd-catalog");
    if (!table || table.dataset.ready) { return; }
    table.dataset.ready = "1";
    var input = document.getElementById("hd-filter");
    var count = document.getElementById("hd-count");
    var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-facet]"));
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);

    function apply() {
      var words = (input.value || "").toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.getAttribute("data-search") || "";
        var ok = words.every(function (w) { return text.indexOf(w) !== -1; });
        selects.forEach(function (select) {
          if (ok && select.value) {
            var values = (row.getAttribute("data-" + select.dataset.facet) || "").split("|");
            ok = values.indexOf(select.value) !== -1;
          }
        });
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      count.textContent = shown + " of " + rows.length;
    }

    function cellValue(row, index, numeric) {
      var cell = row.cells[index];
      if (!numeric) { return cell.textContent.trim().toLowerCase(); }
      var marked = cell.querySelector("[data-value]");
      var value = parseFloat(marked ? marked.getAttribute("data-value") : cell.textContent);
      return isNaN(value) ? -1 : value;
    }

    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute("role", "button");
      th.title = "Sort by " + th.textContent;
      function sort() {
        var numeric = th.getAttribute("data-sort") === "num";
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = cellValue(a, index, numeric), y = cellValue(b, index, numeric);
          return (x < y ? -1 : x > y ? 1 : 0) * (ascending ? 1 : -1);
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") { sort(); } });
    });

    input.addEventListener("input", apply);
    selects.forEach(function (select) { select.addEventListener("change", apply); });
    var query = new URLSearchParams(window.location.search).get("q");
    if (query) { input.value = query; }
    apply();
  }

  if (typeof window.document$ !== "undefined" && window.document$.subscribe) {
    window.document$.subscribe(setup);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
})();

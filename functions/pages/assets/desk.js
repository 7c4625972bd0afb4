// The operator console from the keyboard: F2 the caller's number, F4 the
// answers, F8 a new request, F9 a question to the second line. The page's
// skip links do the same without this script.
(function () {
  var keys = {};
  Array.prototype.forEach.call(document.querySelectorAll('[data-focus-key]'), function (field) {
    keys[field.getAttribute('data-focus-key')] = field;
  });
  document.addEventListener('keydown', function (e) {
    var field = keys[e.key];
    if (!field || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    field.focus();
    if (field.select) field.select();
  });
  Array.prototype.forEach.call(document.querySelectorAll('a[data-key]'), function (link) {
    link.addEventListener('click', function (e) {
      var field = keys[link.getAttribute('data-key')];
      if (!field) return;
      e.preventDefault();
      field.focus();
    });
  });
})();

// Step "what": as the resident types, the classifier suggests services
// (POST /v1/classify); choosing one sets the service list. Without this
// script the list alone works.
(function () {
  var text = document.getElementById('description');
  var select = document.getElementById('service_code');
  var box = document.getElementById('suggestions');
  if (!text || !select || !box || !window.fetch) return;
  var timer = null, asked = '';
  function show(suggestions) {
    box.textContent = '';
    if (!suggestions.length) { box.hidden = true; return; }
    var heading = document.createElement('p');
    heading.textContent = box.dataset.heading;
    var list = document.createElement('ul');
    suggestions.forEach(function (s) {
      var item = document.createElement('li');
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'suggestion';
      button.textContent = s.service_name;
      button.setAttribute('aria-label', box.dataset.pick + ': ' + s.service_name);
      button.addEventListener('click', function () {
        select.value = s.service_code;
        select.focus();
      });
      item.appendChild(button);
      list.appendChild(item);
    });
    box.appendChild(heading);
    box.appendChild(list);
    box.hidden = false;
  }
  function ask() {
    var words = text.value.trim();
    if (words.length < 8 || words === asked) return;
    asked = words;
    fetch('/v1/classify', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ description: words, language: document.documentElement.lang === 'pl' ? 'pl' : 'en' })
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (answer) { if (asked === words) show(answer.suggestions || []); })
      .catch(function () { /* suggestions are a help, not a step */ });
  }
  text.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 500);
  });
  if (text.value) ask();
})();

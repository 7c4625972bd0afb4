// A case's place on a map: the city's districts and the report's pin. The
// address and district above say the same in words.
(function () {
  var el = document.getElementById('place');
  if (!el || !window.L || !window.fetch) return;
  var d = el.dataset;
  var point = d.point.split(',').map(Number);
  el.hidden = false;
  el.setAttribute('role', 'region');
  el.setAttribute('aria-label', d.label);
  var map = L.map(el, { keyboard: false }).setView(point, 16);
  if (d.tiles) L.tileLayer(d.tiles, { maxZoom: 19, attribution: d.attribution || '' }).addTo(map);
  L.marker(point, { icon: L.divIcon({ className: '', html: '<div class="pin"></div>', iconSize: [24, 24], iconAnchor: [4, 26] }), keyboard: false }).addTo(map);
  fetch('/v1/city').then(function (r) { return r.json(); }).then(function (city) {
    L.geoJSON(city.districts, { style: { color: '#0b4f8a', weight: 2, fillOpacity: 0.05 }, interactive: false }).addTo(map);
  }).catch(function () {});
})();

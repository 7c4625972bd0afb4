// Step "details": the open reports near the resident's place on a small
// map, each pin leading to its entry in the list (the list, with its
// "me too" buttons, is the way to answer without the map).
(function () {
  var el = document.getElementById('nearby-map');
  if (!el || !window.L) return;
  var d = el.dataset;
  var here = d.here.split(',').map(Number);
  el.hidden = false;
  el.setAttribute('aria-label', d.label);
  var map = L.map(el, { keyboard: true }).setView(here, 17);
  if (d.tiles) L.tileLayer(d.tiles, { maxZoom: 19, attribution: d.attribution || '' }).addTo(map);
  var you = L.divIcon({ className: '', html: '<div class="pin"></div>', iconSize: [24, 24], iconAnchor: [4, 26] });
  var points = [here];
  L.marker(here, { icon: you, title: d.you, alt: d.you, keyboard: false }).addTo(map);
  Array.prototype.forEach.call(document.querySelectorAll('.nearby-list li[data-case]'), function (item) {
    var at = [Number(item.dataset.lat), Number(item.dataset.long)];
    points.push(at);
    var marker = L.circleMarker(at, { radius: 9, color: '#0b4f8a', weight: 3, fillOpacity: 0.6 }).addTo(map);
    marker.bindTooltip(item.dataset.case);
    marker.on('click', function () {
      var button = item.querySelector('button');
      item.scrollIntoView({ block: 'center' });
      if (button) button.focus();
    });
  });
  if (points.length > 1) map.fitBounds(points, { padding: [24, 24], maxZoom: 18 });
})();

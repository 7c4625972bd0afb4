// Step "where": a map of the city's districts (from /v1/city) with a pin the
// resident drags or places, "use my location", and address suggestions from
// the city's list. The address and coordinate fields stay the way to answer
// without a map (keyboard, screen reader, no JavaScript); the map only fills them.
(function () {
  var el = document.getElementById('map');
  var lat = document.getElementById('lat');
  var lng = document.getElementById('long');
  var address = document.getElementById('address');
  var status = document.getElementById('map-status');
  var list = document.getElementById('address-list');
  if (!el || !lat || !lng || !window.L || !window.fetch) return;
  var d = el.dataset;
  var centre = d.centre.split(',').map(Number);
  el.hidden = false;
  el.setAttribute('aria-label', d.label);
  var map = L.map(el, { keyboard: true }).setView(centre, 13);
  if (d.tiles) {
    L.tileLayer(d.tiles, { maxZoom: 19, attribution: d.attribution || '' }).addTo(map);
  }
  var districts = [];
  var icon = L.divIcon({ className: '', html: '<div class="pin"></div>', iconSize: [24, 24], iconAnchor: [4, 26] });
  var pin = null;

  function inside(point, ring) {
    var x = point[1], y = point[0], hit = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) hit = !hit;
    }
    return hit;
  }
  function inCity(point) {
    if (!districts.length) return true;
    return districts.some(function (g) {
      var polygons = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
      return polygons.some(function (p) { return inside(point, p[0]); });
    });
  }
  function say(text) { status.textContent = text; }
  function place(latlng, moveMap) {
    if (!pin) {
      pin = L.marker(latlng, { draggable: true, icon: icon, title: d.pin, alt: d.pin }).addTo(map);
      pin.on('dragend', function () { place(pin.getLatLng(), false); });
    } else {
      pin.setLatLng(latlng);
    }
    if (moveMap) map.setView(latlng, Math.max(map.getZoom(), 16));
    lat.value = latlng.lat.toFixed(6);
    lng.value = latlng.lng.toFixed(6);
    if (inCity([latlng.lat, latlng.lng])) {
      say(d.placed.replace('{lat}', lat.value).replace('{long}', lng.value));
    } else {
      say(d.outside);
    }
  }
  map.on('click', function (e) { place(e.latlng, false); });

  var tools = document.createElement('div');
  tools.className = 'map-tools';
  function tool(label, action) {
    var b = document.createElement('button');
    b.type = 'button';
    b.textContent = label;
    b.addEventListener('click', action);
    tools.appendChild(b);
    return b;
  }
  tool(d.centrePin, function () { place(map.getCenter(), false); });
  if (navigator.geolocation) {
    tool(d.locate, function () {
      navigator.geolocation.getCurrentPosition(function (p) {
        place(L.latLng(p.coords.latitude, p.coords.longitude), true);
      }, function () { say(d.nolocate); }, { timeout: 10000 });
    });
  }
  el.parentNode.insertBefore(tools, el.nextSibling);

  fetch('/v1/city').then(function (r) { return r.json(); }).then(function (city) {
    var layer = L.geoJSON(city.districts, {
      style: { color: '#0b4f8a', weight: 2, fillOpacity: 0.05 },
      interactive: false
    }).addTo(map);
    (city.districts.features || []).forEach(function (f) { districts.push(f.geometry); });
    if (!lat.value && layer.getBounds().isValid()) map.fitBounds(layer.getBounds());
  }).catch(function () { /* the map works without the districts */ });

  if (lat.value && lng.value && !isNaN(+lat.value) && !isNaN(+lng.value)) {
    place(L.latLng(+lat.value, +lng.value), true);
  }
  [lat, lng].forEach(function (f) {
    f.addEventListener('change', function () {
      if (!isNaN(parseFloat(lat.value)) && !isNaN(parseFloat(lng.value))) {
        place(L.latLng(parseFloat(lat.value), parseFloat(lng.value)), true);
      }
    });
  });

  var found = {}, timer = null;
  if (address && list) {
    address.addEventListener('input', function () {
      var typed = address.value.trim();
      if (found[typed]) { place(L.latLng(found[typed][0], found[typed][1]), true); return; }
      clearTimeout(timer);
      if (typed.length < 2) return;
      timer = setTimeout(function () {
        fetch('/report/places?q=' + encodeURIComponent(typed)).then(function (r) { return r.json(); })
          .then(function (places) {
            list.textContent = '';
            places.forEach(function (p) {
              found[p.label] = [p.lat, p.long];
              var o = document.createElement('option');
              o.value = p.label;
              list.appendChild(o);
            });
          }).catch(function () {});
      }, 250);
    });
  }
})();

// The station finder's "use my location": asks the browser for the position, puts it in the form and
// sends the form. The position goes to this server only, for this one search; nothing is kept here.
(function () {
  'use strict';
  var button = document.getElementById('locate');
  var form = document.getElementById('finder');
  var status = document.getElementById('locate-status');
  if (!button || !form) {
    return;
  }
  if (!('geolocation' in navigator)) {
    status.textContent = button.getAttribute('data-unsupported');
    return;
  }
  button.hidden = false;
  // Typing a district replaces any position left from an earlier search.
  form.elements.district.addEventListener('input', function () {
    form.elements.lat.value = '';
    form.elements.lng.value = '';
  });
  button.addEventListener('click', function () {
    status.textContent = button.getAttribute('data-waiting');
    navigator.geolocation.getCurrentPosition(
      function (p) {
        form.elements.lat.value = p.coords.latitude.toFixed(6);
        form.elements.lng.value = p.coords.longitude.toFixed(6);
        form.elements.district.value = '';
        form.submit();
      },
      function () {
        status.textContent = button.getAttribute('data-denied');
      },
      { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 }
    );
  });
})();

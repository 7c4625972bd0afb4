// Step "details": large photos are made smaller in the browser before they
// are sent (at most 1600 px, JPEG), which also drops their metadata; on a
// poor connection a 6 MB photo becomes a few hundred KB. Without this script
// the photos are sent as they are (and the server strips their location).
(function () {
  var input = document.getElementById('photo');
  if (!input || !window.DataTransfer || !window.createImageBitmap || !HTMLCanvasElement.prototype.toBlob) return;
  var MAX = 1600, SMALL = 400 * 1024;
  function shrink(file) {
    if (file.size <= SMALL || !/^image\/(jpeg|png|webp)$/.test(file.type)) return Promise.resolve(file);
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.round(bitmap.width * scale);
      canvas.height = Math.round(bitmap.height * scale);
      canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      return new Promise(function (done) {
        canvas.toBlob(function (blob) {
          done(blob && blob.size < file.size
            ? new File([blob], file.name.replace(/\.\w+$/, '') + '.jpg', { type: 'image/jpeg' })
            : file);
        }, 'image/jpeg', 0.82);
      });
    }).catch(function () { return file; });
  }
  input.addEventListener('change', function () {
    var files = Array.prototype.slice.call(input.files);
    if (!files.some(function (f) { return f.size > SMALL; })) return;
    Promise.all(files.map(shrink)).then(function (smaller) {
      var transfer = new DataTransfer();
      smaller.forEach(function (f) { transfer.items.add(f); });
      input.files = transfer.files;
    });
  });
})();

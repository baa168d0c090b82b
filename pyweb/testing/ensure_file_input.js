// pyweb.testing.downloads.feed_file_input: the <input type=file multiple> of this id, made when
// missing; true if the element of that id is a file input.
(id) => {
  let el = document.getElementById(id);
  if (!el) {
    el = document.createElement('input');
    el.type = 'file';
    el.multiple = true;
    el.id = id;
    document.body.appendChild(el);
  }
  return el instanceof HTMLInputElement && el.type === 'file';
}

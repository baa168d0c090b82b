// RealDownloadsPage and WebDriverPyodidePage.add_script: load a classic <script src> into the page; settles when it ran.
(src) => new Promise((resolve, reject) => {
  const s = document.createElement('script');
  s.src = src;
  s.onload = () => resolve(null);
  s.onerror = () => reject(new Error('could not load ' + src));
  document.head.appendChild(s);
})

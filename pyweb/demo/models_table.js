// DemoPage.rows (pyweb.demo.walkthrough): the stored-models table's rows (eval_on_selector_all), as
// {scheme, name, url, topology, weights, date}: the data-* of each row and the text of its cells.
(rows) => rows.map((r) => ({
  scheme: r.dataset.scheme,
  name: r.dataset.name,
  url: r.dataset.url,
  topology: r.querySelector('td.topology-bytes').textContent,
  weights: r.querySelector('td.weight-bytes').textContent,
  date: r.querySelector('td.date').textContent,
}))

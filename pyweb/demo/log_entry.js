// DemoPage.last_log (pyweb.demo.walkthrough): the newest log entry (eval_on_selector), its data-*
// and its text.
(li) => ({...li.dataset, text: li.textContent})

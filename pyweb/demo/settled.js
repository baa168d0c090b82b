// DemoPage.act (pyweb.demo.walkthrough, wait_for_function): true once the log has more than n
// entries and the page is no longer busy.
(n) => Number(document.getElementById('log').dataset.count) > n && document.body.dataset.busy === '0'

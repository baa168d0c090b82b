// QuotaPage.estimate: navigator.storage.estimate() as [quota, usage].
async () => {
  const e = await navigator.storage.estimate();
  return [e.quota, e.usage];
}

// RealDownloadsPage: whether the page still has transient user activation (a gesture's window).
() => !!(navigator.userActivation && navigator.userActivation.isActive)

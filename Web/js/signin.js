"use strict";

// Checks a token against the catalog (any export token may list it) before keeping it.
document.getElementById("signin").addEventListener("submit", async (event) => {
  event.preventDefault();
  const status = document.getElementById("signin-status");
  MapDepot.setToken(document.getElementById("token").value.trim());
  try {
    await MapDepot.call("GET", "/catalog/records");
    const next = new URLSearchParams(window.location.search).get("next") || "export.html";
    window.location.assign(/^[a-z]+\.html$/.test(next) ? next : "export.html");
  } catch (error) {
    if (error.status === 403) {
      // A replication-only token: the replication page is what it may use.
      window.location.assign("replication.html");
      return;
    }
    MapDepot.signOut();
    status.textContent = error.message;
  }
});

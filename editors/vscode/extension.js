// Starts `tollgate lsp` for the workspace's Markdown, YAML and Lua files.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("tollgate").get("path") || "tollgate";
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const server = { command, args: ["lsp"], options: { cwd: folder } };
  client = new LanguageClient("tollgate", "Tollgate", { run: server, debug: server }, {
    documentSelector: ["markdown", "yaml", "lua"].map((language) => ({ scheme: "file", language })),
  });
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client?.stop();
}

module.exports = { activate, deactivate };

"""The MSI's tables as wixl built them (msiinfo export): the custom actions
between InstallServices and StartServices in that order, deferred as
LocalSystem with the register action's data hidden; the secrets in
MsiHiddenProperties; the service as the README documents it; both packages
under one UpgradeCode with the downgrade refused; a DLL that needs no runtime
beside it. wixl sequences by After= unreliably: this is what catches it.
The setup wizard (packaging/windows/ui/*.idt, imported by build_msi.cmake):
its dialogs, the Next and Back chain for a first install and for an upgrade,
Next guarded by the silent path's conditions, the password masked and hidden."""

import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import SKIP  # noqa: E402


def skip(reason):
    print(f"SKIPPED: {reason}", flush=True)
    raise SystemExit(SKIP)


WIN_BUILD = os.environ.get("CBCS_WINDOWS_BUILD_DIR", "")
if not shutil.which("msiinfo"):
    skip("msiinfo (msitools) is not installed")
# packaging/windows/build.sh writes why it could not cross-build here.
_unavailable = os.path.join(WIN_BUILD, "UNAVAILABLE") if WIN_BUILD else ""
if _unavailable and os.path.exists(_unavailable):
    with open(_unavailable) as fh:
        skip(fh.read().strip())
MSIS = sorted(glob.glob(os.path.join(WIN_BUILD, "packages", "cbcs-*-x64.msi"))) if WIN_BUILD else []
if len(MSIS) < 2:
    skip(f"no MSI in '{WIN_BUILD}/packages' (the Windows cross build makes them: packaging/windows/build.sh)")

UPGRADE_CODE = "{16E27E0F-0F33-4381-A574-44DE10C66932}"
DEFERRED, NO_IMPERSONATE, HIDE_TARGET, DLL_IN_BINARY = 1024, 2048, 8192, 1


def table(msi, name):
    """Rows of an exported table as dicts (msiinfo's idt: names, types, key line, rows)."""
    out = subprocess.run(["msiinfo", "export", msi, name], capture_output=True, text=True,
                         check=True).stdout
    lines = out.split("\n")
    cols = lines[0].split("\t")
    return [dict(zip(cols, line.split("\t"))) for line in lines[3:] if line]


def version_of(msi):
    return re.search(r"cbcs-(\d+\.\d+\.\d+)-x64\.msi$", msi).group(1)


class MsiTablesTest(unittest.TestCase):
    def test_custom_actions_are_sequenced_between_install_and_start_services(self):
        for msi in MSIS:
            seq = {r["Action"]: (int(r["Sequence"]), r["Condition"])
                   for r in table(msi, "InstallExecuteSequence")}
            order = ["InstallValidate", "RemoveExistingProducts", "InstallInitialize", "CbcsStopService",
                     "StopServices", "DeleteServices", "InstallFiles", "InstallServices", "CbcsConfigureService",
                     "CbcsPackRegisterData", "CbcsRegister", "StartServices", "InstallFinalize"]
            numbers = [seq[a][0] for a in order]
            self.assertEqual(numbers, sorted(numbers), f"{msi}: {dict(zip(order, numbers))}")
            self.assertEqual(len(set(numbers)), len(numbers))
            for action in ("CbcsConfigureService", "CbcsPackRegisterData", "CbcsRegister"):
                self.assertEqual(seq[action][1], 'NOT REMOVE~="ALL"', action)
            # When the component is removed (2) or installed (3): not on a rerun that changes nothing.
            self.assertEqual(seq["CbcsStopService"][1], "$cbcs_service=2 OR $cbcs_service=3")

    def test_custom_action_types(self):
        for msi in MSIS:
            ca = {r["Action"]: r for r in table(msi, "CustomAction")}
            for action in ca.values():
                self.assertEqual(action["Source"], "cbcs_msi_register")
                self.assertEqual(action["Target"], action["Action"])  # the DLL's export
            self.assertEqual(int(ca["CbcsPackRegisterData"]["Type"]) & DEFERRED, 0)
            self.assertEqual(int(ca["CbcsRegister"]["Type"]),
                             DLL_IN_BINARY | DEFERRED | NO_IMPERSONATE | HIDE_TARGET)
            for action in ("CbcsConfigureService", "CbcsStopService"):
                self.assertEqual(int(ca[action]["Type"]), DLL_IN_BINARY | DEFERRED | NO_IMPERSONATE)
            # The wizard's: immediate, in the user's context (no elevation needed).
            for action in ("CbcsDetectRegistration", "CbcsCheckToken", "CbcsTestConnection"):
                self.assertEqual(int(ca[action]["Type"]), DLL_IN_BINARY, action)

    def test_properties_service_and_upgrade(self):
        codes = set()
        for msi in MSIS:
            props = {r["Property"]: r["Value"] for r in table(msi, "Property")}
            self.assertEqual(set(props["MsiHiddenProperties"].split(";")),
                             {"TOKEN", "PROXY_PASSWORD", "CbcsRegister"})
            self.assertEqual(props["UpgradeCode"], UPGRADE_CODE)
            self.assertEqual(props["ProductVersion"], version_of(msi))
            self.assertEqual(props["ALLUSERS"], "1")
            codes.add(props["ProductCode"])
            for secret in ("TOKEN", "PROXY_PASSWORD"):
                self.assertNotIn(secret, props, "a default value for a secret")

            [svc] = table(msi, "ServiceInstall")
            self.assertEqual((svc["Name"], svc["DisplayName"], svc["StartName"]),
                             ("CBCS", "CA Backend Connector Service", "LocalSystem"))
            self.assertEqual(int(svc["ServiceType"]), 0x10)  # own process
            self.assertEqual(int(svc["StartType"]), 2)  # auto
            self.assertEqual(svc["Arguments"], 'run --data-dir "[CommonAppDataFolder]CBCS"')
            [ctl] = table(msi, "ServiceControl")
            # start on install (1), stop on install (2) and uninstall (32), delete on uninstall (128)
            self.assertEqual((ctl["Name"], int(ctl["Event"]), ctl["Wait"]), ("CBCS", 1 | 2 | 32 | 128, "1"))

            # The Event Log source (HKLM is root 2); integers are stored as #n;
            # wixl ends the key with a backslash.
            source = r"SYSTEM\CurrentControlSet\Services\EventLog\Application\CBCS"
            values = {r["Name"]: r["Value"] for r in table(msi, "Registry")
                      if r["Root"] == "2" and r["Key"].rstrip("\\") == source}
            self.assertEqual(values, {"EventMessageFile": "[INSTALLDIR]cbcs.exe",
                                      "TypesSupported": "#7"})

            dirs = {r["Directory"]: r for r in table(msi, "Directory")}
            self.assertEqual(dirs["INSTALLDIR"]["Directory_Parent"], "ProgramFiles64Folder")
            self.assertEqual(dirs["INSTALLDIR"]["DefaultDir"], "CBCS")
            self.assertNotIn("CommonAppDataFolder", dirs, "the package must not own the data directory")

            upgrade = table(msi, "Upgrade")
            downgrade = [r for r in upgrade if r["ActionProperty"] == "WIX_DOWNGRADE_DETECTED"]
            self.assertEqual([r["VersionMin"] for r in downgrade], [version_of(msi)])
            conditions = {r["Condition"]: r["Description"] for r in table(msi, "LaunchCondition")}
            self.assertIn("A newer version of the CA Backend Connector Service is already installed",
                          conditions["NOT WIX_DOWNGRADE_DETECTED"])
        self.assertEqual(len(codes), len(MSIS), "each package has its own ProductCode")

    def test_the_dll_needs_only_system_dlls(self):
        objdump = shutil.which("x86_64-w64-mingw32-objdump")
        dll = os.path.join(WIN_BUILD, "cbcs_msi_register.dll")
        if not objdump or not os.path.exists(dll):
            self.skipTest("no objdump or no cbcs_msi_register.dll")
        out = subprocess.run([objdump, "-p", dll], capture_output=True, text=True, check=True).stdout
        imports = {m.lower() for m in re.findall(r"DLL Name: (\S+)", out)}
        # Windows' own: Winsock and the crypto DLLs come with Test Connection's TLS,
        # COM's (ole32, oleaut32) with the protocol library's AD CS DCOM transport.
        self.assertLessEqual(imports, {"kernel32.dll", "advapi32.dll", "msi.dll", "msvcrt.dll",
                                       "user32.dll", "ws2_32.dll", "mswsock.dll", "crypt32.dll",
                                       "bcrypt.dll", "ole32.dll", "oleaut32.dll"})
        for export in ("CbcsPackRegisterData", "CbcsRegister", "CbcsConfigureService",
                       "CbcsStopService", "CbcsDetectRegistration", "CbcsCheckToken",
                       "CbcsTestConnection"):
            self.assertRegex(out, rf"\]\s+{export}\b")


# The silent path's rules (register_plan.cpp, cbcs register -proxy-*): TOKEN is
# needed when the connector has no identity or FORCE=1; a manual proxy needs an
# address and a port, a password a user (and the wizard asks a user's password).
NEW_REGISTRATION = 'CBCS_REGISTERED <> "1" OR FORCE = "1"'
REGISTERED = 'CBCS_REGISTERED = "1" AND FORCE <> "1"'
PROXY_OK = ('PROXY_TYPE <> "1" OR (PROXY_ADDR AND PROXY_PORT AND '
            '((PROXY_USER AND PROXY_PASSWORD) OR (NOT PROXY_USER AND NOT PROXY_PASSWORD)))')
PAGES = ["WelcomeDlg", "LicenseDlg", "FolderDlg", "TokenDlg", "ProxyDlg", "ReadyDlg"]
PASSWORD_ATTR, VISIBLE = 0x200000, 1


class WizardTablesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.msi = MSIS[0]
        cls.dialogs = {r["Dialog"]: r for r in table(cls.msi, "Dialog")}
        cls.controls = {(r["Dialog_"], r["Control"]): r for r in table(cls.msi, "Control")}
        cls.events = table(cls.msi, "ControlEvent")
        cls.conditions = table(cls.msi, "ControlCondition")

    def new_dialogs(self, dialog, control):
        """{target: condition} of a button's NewDialog events, and the events in their order."""
        rows = sorted((r for r in self.events if (r["Dialog_"], r["Control_"]) == (dialog, control)),
                      key=lambda r: int(r["Ordering"] or 0))
        return {r["Argument"]: r["Condition"] for r in rows if r["Event"] == "NewDialog"}, rows

    def test_every_dialog_windows_installer_needs(self):
        for msi in MSIS:
            dialogs = {r["Dialog"] for r in table(msi, "Dialog")}
            self.assertLessEqual(set(PAGES) | {"ProgressDlg", "ExitDlg", "UserExitDlg", "FatalErrorDlg",
                                               "CancelDlg", "ErrorDlg", "MaintenanceDlg"}, dialogs)
            props = {r["Property"]: r["Value"] for r in table(msi, "Property")}
            self.assertEqual(props["ErrorDialog"], "ErrorDlg")
            styles = {r["TextStyle"] for r in table(msi, "TextStyle")}
            self.assertIn(props["DefaultUIFont"], styles)
        self.assertTrue(int(self.dialogs["ErrorDlg"]["Attributes"]) & 0x10000, "ErrorDlg is not an error dialog")
        # Windows Installer fills ErrorText and shows the buttons named by their answers.
        for name in ("ErrorText", "A", "C", "I", "N", "O", "R", "Y"):
            self.assertIn(("ErrorDlg", name), self.controls)

    def test_references_resolve(self):
        for (dialog, _), c in self.controls.items():
            self.assertIn(dialog, self.dialogs)
            if c["Control_Next"]:
                self.assertIn((dialog, c["Control_Next"]), self.controls)
        for name, d in self.dialogs.items():
            self.assertIn((name, d["Control_First"]), self.controls, name)
        for r in self.events + self.conditions + table(self.msi, "EventMapping"):
            self.assertIn((r["Dialog_"], r["Control_"]), self.controls, r)
        actions = {r["Action"] for r in table(self.msi, "CustomAction")}
        for r in self.events:
            if r["Event"] in ("NewDialog", "SpawnDialog"):
                self.assertIn(r["Argument"], self.dialogs, r)
            if r["Event"] == "DoAction":
                self.assertIn(r["Argument"], actions, r)
        for c in self.controls.values():
            if c["Type"] == "RadioButtonGroup":
                self.assertTrue([r for r in table(self.msi, "RadioButton") if r["Property"] == c["Property"]])

    def test_next_and_back_chain(self):
        for page, following in zip(PAGES, PAGES[1:]):
            targets, _ = self.new_dialogs(page, "Next")
            self.assertIn(following, targets, page)
            targets, _ = self.new_dialogs(following, "Back")
            self.assertIn(page, targets, following)
        # An upgrade (identity kept) goes from the folder to Ready, and back.
        self.assertEqual(self.new_dialogs("FolderDlg", "Next")[0],
                         {"TokenDlg": NEW_REGISTRATION, "ReadyDlg": REGISTERED})
        self.assertEqual(self.new_dialogs("ReadyDlg", "Back")[0],
                         {"ProxyDlg": NEW_REGISTRATION, "FolderDlg": REGISTERED})
        ready = [r for r in self.events if (r["Dialog_"], r["Control_"]) == ("ReadyDlg", "Next")]
        self.assertEqual([(r["Event"], r["Argument"]) for r in ready], [("EndDialog", "Return")])
        seq = {r["Action"]: (int(r["Sequence"]), r["Condition"]) for r in table(self.msi, "InstallUISequence")}
        self.assertLess(seq["CostFinalize"][0], seq["CbcsDetectRegistration"][0])
        self.assertLess(seq["CbcsDetectRegistration"][0], seq["WelcomeDlg"][0])
        self.assertLess(seq["WelcomeDlg"][0], seq["ProgressDlg"][0])
        self.assertLess(seq["ProgressDlg"][0], seq["ExecuteAction"][0])
        self.assertEqual(seq["WelcomeDlg"][1], "NOT Installed")
        self.assertEqual({a: seq[a][0] for a in ("ExitDlg", "UserExitDlg", "FatalErrorDlg")},
                         {"ExitDlg": -1, "UserExitDlg": -2, "FatalErrorDlg": -3})

    def test_next_is_guarded_as_the_silent_path(self):
        # Licence: accepted.
        self.assertEqual(self.new_dialogs("LicenseDlg", "Next")[0], {"FolderDlg": 'LicenseAccepted = "1"'})
        # Token: cbcs register's check runs first, and only its yes goes on.
        targets, rows = self.new_dialogs("TokenDlg", "Next")
        self.assertEqual((rows[0]["Event"], rows[0]["Argument"]), ("DoAction", "CbcsCheckToken"))
        self.assertEqual(targets, {"ProxyDlg": 'CBCS_TOKEN_OK = "1"', "TokenDlg": 'CBCS_TOKEN_OK <> "1"'})
        self.assertEqual(self.controls[("TokenDlg", "Token")]["Property"], "TOKEN")
        self.assertEqual(self.controls[("TokenDlg", "TokenCheck")]["Text"], "[CBCS_TOKEN_CHECK]")
        # Proxy: the silent path's rules, and the button disabled while they fail.
        targets, rows = self.new_dialogs("ProxyDlg", "Next")
        self.assertEqual(targets, {"ReadyDlg": PROXY_OK})
        guards = {(r["Action"], r["Condition"]) for r in self.conditions
                  if (r["Dialog_"], r["Control_"]) == ("ProxyDlg", "Next")}
        self.assertEqual(guards, {("Enable", PROXY_OK), ("Disable", f"NOT ({PROXY_OK})")})
        # Direct: the manual fields are cleared first (cbcs refuses them with type direct).
        cleared = {r["Event"] for r in rows if r["Argument"] == "{}" and r["Condition"] == 'PROXY_TYPE <> "1"'}
        self.assertEqual(cleared, {"[PROXY_ADDR]", "[PROXY_PORT]", "[PROXY_USER]", "[PROXY_PASSWORD]"})
        bound = {c["Property"] for (d, _), c in self.controls.items() if d == "ProxyDlg" and c["Property"]}
        self.assertEqual(bound, {"PROXY_TYPE", "PROXY_ADDR", "PROXY_PORT", "PROXY_USER", "PROXY_PASSWORD"})
        self.assertEqual({r["Value"] for r in table(self.msi, "RadioButton") if r["Property"] == "PROXY_TYPE"},
                         {"0", "1"})
        test = self.new_dialogs("ProxyDlg", "Test")[1]
        self.assertEqual([(r["Event"], r["Argument"]) for r in test],
                         [("DoAction", "CbcsTestConnection"), ("NewDialog", "ProxyDlg")])
        self.assertEqual(self.controls[("ProxyDlg", "TestResult")]["Text"], "[CBCS_PROXY_TEST]")
        # Folder: the path is set before leaving.
        folder = self.new_dialogs("FolderDlg", "Next")[1]
        self.assertEqual((folder[0]["Event"], folder[0]["Argument"]), ("SetTargetPath", "INSTALLDIR"))
        self.assertEqual(self.controls[("FolderDlg", "Folder")]["Property"], "INSTALLDIR")

    def test_maintenance_repairs_or_removes(self):
        def events(control):
            return [(r["Event"], r["Argument"]) for r in sorted(
                (r for r in self.events if (r["Dialog_"], r["Control_"]) == ("MaintenanceDlg", control)),
                key=lambda r: int(r["Ordering"] or 0))]
        self.assertEqual(events("Next"), [("Reinstall", "ALL"), ("ReinstallMode", "ecmus"),
                                          ("EndDialog", "Return")])
        # REMOVE itself first: the package's actions are conditioned on it (Wine's Remove
        # event sets only the features' states; the register action ran on a removal).
        self.assertEqual(events("Remove"), [("[REMOVE]", "ALL"), ("Remove", "ALL"), ("EndDialog", "Return")])

    def test_secrets_are_masked_and_hidden(self):
        password = self.controls[("ProxyDlg", "Password")]
        self.assertTrue(int(password["Attributes"]) & PASSWORD_ATTR, "the password is shown in clear")
        props = {r["Property"]: r["Value"] for r in table(self.msi, "Property")}
        self.assertLessEqual({"TOKEN", "PROXY_PASSWORD"}, set(props["MsiHiddenProperties"].split(";")))
        for c in self.controls.values():
            self.assertNotIn("[PROXY_PASSWORD]", c["Text"])
            self.assertNotIn("[TOKEN]", c["Text"])

    def test_licence_page_and_files(self):
        text = self.controls[("LicenseDlg", "LicenseText")]["Text"]
        self.assertTrue(text.startswith("{\\rtf1"), text[:40])
        self.assertIn("Apache License", text)
        self.assertNotIn("[", text, "a bracket would be read as a property")
        accept = self.controls[("LicenseDlg", "Accept")]
        self.assertEqual((accept["Type"], accept["Property"]), ("CheckBox", "LicenseAccepted"))
        for msi in MSIS:
            files = {r["FileName"].split("|")[-1] for r in table(msi, "File")}
            self.assertLessEqual({"cbcs.exe", "LICENSE.txt", "THIRD-PARTY-NOTICES.txt"}, files)


if __name__ == "__main__":
    unittest.main()

; The NSIS setup (.exe) installs the GStreamer runtime first when the machine has none.
; Used by `tauri build --bundles nsis` (the Tauri CLI from npm) through bundle.windows.nsis.installerHooks in
; tauri.windows.conf.json; the release procedure (docs/release.md) puts the runtime's MSI at
; deploy/windows/gstreamer-runtime.msi before building.

!macro NSIS_HOOK_PREINSTALL
  SetRegView 64
  ReadRegStr $0 HKLM "SOFTWARE\GStreamer1.0\x86_64" "InstallDir"
  SetRegView lastused
  ${If} $0 == ""
    DetailPrint "Installing the GStreamer runtime (video decoding)"
    InitPluginsDir
    File "/oname=$PLUGINSDIR\gstreamer-runtime.msi" "${__FILEDIR__}\gstreamer-runtime.msi"
    ExecWait 'msiexec.exe /i "$PLUGINSDIR\gstreamer-runtime.msi" /qn /norestart INSTALLLEVEL=1000' $1
    ${If} $1 != 0
    ${AndIf} $1 != 3010
      MessageBox MB_ICONSTOP "The GStreamer runtime could not be installed (msiexec exit code $1). Watchfloor needs it to show video."
      Abort
    ${EndIf}
  ${EndIf}
!macroend

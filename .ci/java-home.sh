# Sourced by .ci/run, the Makefile's helpers and ./sketchrt: selects a JDK 25 as JAVA_HOME.
# Keeps a JAVA_HOME that already points at JDK 25+, else looks in the usual install folders.
_sketchrt_java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
if [[ -z ${JAVA_HOME:-} || ! -x $JAVA_HOME/bin/java || $(_sketchrt_java_major "$JAVA_HOME") -lt 25 ]]; then
  JAVA_HOME=""
  for candidate in /usr/lib/jvm/*25* /usr/lib/jvm/*-2[5-9]* /Library/Java/JavaVirtualMachines/*25*/Contents/Home "$HOME"/.sdkman/candidates/java/25*; do
    if [[ -x $candidate/bin/java ]] && (( $(_sketchrt_java_major "$candidate") >= 25 )); then
      JAVA_HOME=$candidate
      break
    fi
  done
  if [[ -z $JAVA_HOME ]]; then
    echo "sketchrt: no JDK 25 found. Install one (e.g. 'apt-get install temurin-25-jdk' from Adoptium, or https://adoptium.net) and set JAVA_HOME." >&2
    exit 1
  fi
fi
export JAVA_HOME
export PATH="$JAVA_HOME/bin:$PATH"

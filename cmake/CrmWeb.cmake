# The web application (web/, React + Vite): built with npm into the build directory's web/
# folder, beside the crm-ai executable, which serves it at /. Rebuilt whenever a file under
# web/ changes. Its tests (Vitest, and the browser tests against a real crm-ai serve) are CTest
# tests. Needs the npm packages that scripts/setup.sh installs (npm ci in web/).
option(CRM_BUILD_WEB "Build the web application with npm" ON)

set(CRM_WEB_SRC "${PROJECT_SOURCE_DIR}/web")
set(CRM_WEB_OUT "${CMAKE_BINARY_DIR}/web")
find_program(CRM_NPM npm)
find_program(CRM_NODE node)

if(CRM_BUILD_WEB AND EXISTS "${CRM_WEB_SRC}/package.json")
  if(NOT CRM_NPM OR NOT CRM_NODE OR NOT EXISTS "${CRM_WEB_SRC}/node_modules/.bin/vite")
    message(WARNING "web/: node, npm or its packages are missing (run scripts/setup.sh, then "
                    "re-run cmake): crm-ai will answer / with a page saying the UI is not built")
  else()
    file(GLOB_RECURSE _crm_web_inputs CONFIGURE_DEPENDS
         "${CRM_WEB_SRC}/src/*" "${CRM_WEB_SRC}/public/*")
    list(FILTER _crm_web_inputs EXCLUDE REGEX "\\.test\\.tsx?$")
    list(APPEND _crm_web_inputs "${CRM_WEB_SRC}/index.html" "${CRM_WEB_SRC}/package.json"
         "${CRM_WEB_SRC}/package-lock.json" "${CRM_WEB_SRC}/vite.config.ts"
         "${CRM_WEB_SRC}/tsconfig.json" "${CRM_WEB_SRC}/postcss.config.cjs")
    add_custom_command(
      OUTPUT "${CRM_WEB_OUT}/index.html"
      COMMAND ${CRM_NPM} run --silent build -- --outDir "${CRM_WEB_OUT}" --emptyOutDir
              --logLevel warn
      WORKING_DIRECTORY "${CRM_WEB_SRC}"
      DEPENDS ${_crm_web_inputs}
      COMMENT "Building the web application into ${CRM_WEB_OUT}"
      USES_TERMINAL
      VERBATIM)
    add_custom_target(crm_web ALL DEPENDS "${CRM_WEB_OUT}/index.html")
    if(TARGET crm-ai)
      add_dependencies(crm-ai crm_web)
    endif()

    if(CRM_BUILD_TESTS)
      add_test(NAME crm_web_unit COMMAND ${CRM_NPM} run --silent test
               WORKING_DIRECTORY "${CRM_WEB_SRC}")
      set_tests_properties(crm_web_unit PROPERTIES TIMEOUT 300 LABELS web)
      if(TARGET crm-ai)
        # Real headless Chromium against a real crm-ai serve (see web/e2e/README.md); also checks
        # the typed API client against the running server's /api/openapi.json.
        add_test(NAME crm_web_e2e COMMAND ${CRM_NODE} e2e/run.mjs WORKING_DIRECTORY "${CRM_WEB_SRC}")
        set_tests_properties(crm_web_e2e PROPERTIES TIMEOUT 900 LABELS web
          ENVIRONMENT "CRM_AI_BIN=$<TARGET_FILE:crm-ai>;E2E_OUT_DIR=${CMAKE_BINARY_DIR}/e2e")
      endif()
    endif()
  endif()
endif()

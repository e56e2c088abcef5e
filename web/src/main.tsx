import { render } from "preact";
import { Suspense } from "preact/compat";
import { useEffect } from "preact/hooks";
import { setUnauthorizedHandler } from "./api/client";
import { Shell } from "./app/Shell";
import { loadSession, loginUrl, setSession, useSession } from "./app/session";
import { ROUTES } from "./app/routes";
import { Loading, ErrorBox } from "./app/ui";
import { connect } from "./live/socket";
import { Login } from "./login/Login";
import { interceptLinks, match, navigate, useLocation } from "./lib/router";
import "./styles.css";

setUnauthorizedHandler(() => {
  setSession(null);
  navigate(loginUrl(), { replace: true });
});

function App() {
  const url = useLocation();
  const { me, loaded } = useSession();
  const path = url.pathname;
  useEffect(() => {
    if (me) connect();
  }, [me]);
  if (path === "/login") return <Login />;
  if (!loaded) return <Loading />;
  if (!me) {
    navigate(loginUrl(), { replace: true });
    return <Loading />;
  }
  for (const route of ROUTES) {
    const params = match(route.path, path);
    if (!params) continue;
    document.title = `${route.title} · Nightowl`;
    const allowed = !route.permission || me.permissions.includes(route.permission);
    const Page = route.component;
    return (
      <Shell me={me} path={path}>
        {allowed ? (
          <Suspense fallback={<Loading />}>
            <Page params={params} />
          </Suspense>
        ) : (
          <div class="page">
            <h1>Not allowed</h1>
            <ErrorBox error={`This page needs the '${route.permission}' permission; you have: ${me.permissions.join(", ")}.`} />
          </div>
        )}
      </Shell>
    );
  }
  document.title = "Not found · Nightowl";
  return (
    <Shell me={me} path={path}>
      <div class="page">
        <h1>Page not found</h1>
        <p>
          Nothing lives at <code>{path}</code>. Go to the <a href="/">overview</a>.
        </p>
      </div>
    </Shell>
  );
}

const root = document.getElementById("app")!;
interceptLinks(root);
if (location.pathname !== "/login") void loadSession().catch(() => setSession(null));
render(<App />, root);

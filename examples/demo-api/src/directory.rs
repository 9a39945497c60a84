//! The demo's world: two users and two desktops, held in memory.

use std::sync::Mutex;

use serde::Serialize;

/// A demo user: who a key acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The user id keys are minted for (`u_1`).
    pub id: &'static str,
    /// E-mail address.
    pub email: &'static str,
    /// `admin` or `member`.
    pub role: &'static str,
    /// `pro` or `free`.
    pub tier: &'static str,
}

/// The demo admin, owner of the bootstrap key.
pub const ADMIN: User = User {
    id: "u_1",
    email: "ada@example.com",
    role: "admin",
    tier: "pro",
};

/// The demo member.
pub const MEMBER: User = User {
    id: "u_2",
    email: "grace@example.com",
    role: "member",
    tier: "free",
};

/// The demo user with `id`, if any (keys minted with the CLI may name anyone).
pub fn user(id: &str) -> Option<&'static User> {
    [&ADMIN, &MEMBER].into_iter().find(|u| u.id == id)
}

/// One desktop, as `GET /v1/desktops` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Desktop {
    /// Its id (`d_1`).
    pub id: &'static str,
    /// A display name.
    pub name: &'static str,
    /// `running` or `stopped`.
    pub state: &'static str,
}

/// What a `POST /v1/desktops/{id}/…` asks of a desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopAction {
    /// Send a chat message.
    Chat,
    /// Start it.
    Start,
    /// Stop it.
    Stop,
}

impl DesktopAction {
    /// `chat`, `start` or `stop`.
    pub fn as_str(self) -> &'static str {
        match self {
            DesktopAction::Chat => "chat",
            DesktopAction::Start => "start",
            DesktopAction::Stop => "stop",
        }
    }
}

/// The desktops, in memory: lost on restart, as a demo's should be.
#[derive(Debug)]
pub struct Desktops {
    all: Mutex<Vec<Desktop>>,
}

impl Default for Desktops {
    fn default() -> Self {
        Desktops {
            all: Mutex::new(vec![
                Desktop {
                    id: "d_1",
                    name: "build box",
                    state: "running",
                },
                Desktop {
                    id: "d_2",
                    name: "research",
                    state: "stopped",
                },
            ]),
        }
    }
}

impl Desktops {
    /// Every desktop.
    pub fn list(&self) -> Vec<Desktop> {
        self.all.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Applies `action` to desktop `id`; `None` when there is no such desktop.
    pub fn act(&self, id: &str, action: DesktopAction) -> Option<Desktop> {
        let mut all = self.all.lock().unwrap_or_else(|e| e.into_inner());
        let desktop = all.iter_mut().find(|d| d.id == id)?;
        match action {
            DesktopAction::Chat => {}
            DesktopAction::Start => desktop.state = "running",
            DesktopAction::Stop => desktop.state = "stopped",
        }
        Some(desktop.clone())
    }
}

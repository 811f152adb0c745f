#!/usr/bin/env python3
"""Generate the support-tone suite's data: train.jsonl and held-out.jsonl.

Kestrel Home is a fictional smart-home company. Every ticket and every reply below is hand-written; this script
only signs the tickets with customer names, splits each scenario's tickets between training and held-out, and
writes both files in the `bedrock-conversation-2024` format Amazon Nova is fine-tuned on (a system block, the ticket
as the user turn, the reply as the assistant turn), with the fields the rubric reads beside it. It uses the standard library only and a fixed seed, so running it again from this folder
reproduces both files byte for byte:

    python3 make_data.py
"""

import json
import random
import re
from pathlib import Path

SEED = 20240611
HERE = Path(__file__).resolve().parent
SYSTEM = "You are a support agent for Kestrel Home."
CLOSING = "If that doesn't do it, just reply here and we'll take it from there."
SIGN_OFF = "\u2014 Kestrel Support"  # em dash

# Customers. The held-out tickets are signed by different people from the training tickets (the split below
# draws the two groups from this list), so no held-out customer is also a training customer.
NAMES = [
    "Aiko", "Tomas", "Priya", "Lena", "Nadia", "Mateo", "Sofia", "Kwame", "Ingrid", "Rahul", "Mei", "Olumide",
    "Fatima", "Diego", "Hannah", "Yusuf", "Chloe", "Arjun", "Leila", "Marcus", "Siobhan", "Kenji", "Amara",
    "Pedro", "Zainab", "Oliver", "Ana", "Dmitri", "Grace", "Emeka", "Noor", "Lucas", "Freya", "Hamza", "Camila",
    "Jonas", "Ayesha", "Samuel", "Ji-woo", "Rosa", "Connor", "Thandiwe", "Elif", "Bogdan", "Maya", "Kofi",
    "Linnea", "Rafael", "Ines", "Hiroshi", "Bea", "Malik", "Svetlana", "Owen", "Lucia", "Tariq", "Eleanor", "Wei",
    "Joaquin", "Agnieszka", "Darius", "Mariam", "Finn", "Adaeze", "Nikhil", "Carmen", "Patrick", "Yara", "Stefan",
    "Imani", "Hugo", "Esther", "Ravi", "Margot", "Kai", "Alejandra", "Gareth", "Sunita", "Mohammed", "Clara",
    "Jamal", "Astrid", "Viktor", "Nia", "Andrés", "Sakura", "Ruth", "Omar", "Beatriz", "Ewan", "Keiko", "Liam",
    "Anjali", "Dolores", "Henrik", "Paloma",
]
HELD_OUT_NAMES = 32  # how many of NAMES sign held-out tickets; the rest sign training tickets

# How customers sign off ({n} is the name), with how often each is picked.
SIGN_OFFS = [
    ("Thanks,\n{n}", 7),
    ("Thanks, {n}", 5),
    ("{n}", 5),
    ("\u2014 {n}", 3),
    ("Thank you,\n{n}", 2),
    ("Cheers,\n{n}", 1),
    ("Best,\n{n}", 1),
    ("Kind regards,\n{n}", 1),
    ("Many thanks,\n{n}", 1),
    ("thx\n{n}", 1),
    ("- {n}", 1),
]

# The scenarios: a slug, the product(s) the ticket is about (spelled exactly as Kestrel does), the key terms the
# right fix contains verbatim, the reply's acknowledgement sentence and steps, how many of its tickets go to the
# held-out split, and the tickets themselves (without sign-off; it is added below).
SCENARIOS = [
    # ------------------------------------------------------------------------------------------ Kestrel Cam 2
    {
        "slug": "cam2-wifi-band",
        "products": ["Kestrel Cam 2"],
        "must_mention": ["2.4 GHz"],
        "ack": "It sounds like your Kestrel Cam 2 is trying to join the 5 GHz side of your router, which it can't "
        "use.",
        "steps": [
            "In your router's settings, make sure the 2.4 GHz band is switched on; if both bands share one network "
            "name, give the 2.4 GHz band its own name for now.",
            "Stand near the router and hold the Setup button on the back of the Kestrel Cam 2 for 5 seconds, until "
            "the light blinks blue.",
            "In the Kestrel app, tap Add Device > Kestrel Cam 2 and pick the 2.4 GHz network when it asks.",
        ],
        "held_out": 3,
        "tickets": [
            "Trying to get my new Kestrel Cam 2 going and setup fails at the \"connecting to network\" step. Tried "
            "4 times. The wifi password is definitely right, my laptop is on it right now.",
            "the camera won't connect to wifi during setup. it says network not found but I can see my network on "
            "my phone",
            "Hello,\n\nWe just switched to a new mesh router and I'm setting the Kestrel Cam 2 up again on it, but "
            "setup times out at the wifi network step every time. Every other device in the house joined fine. Any "
            "ideas?",
            "My router is dual band and during setup the camera only lists some networks, not mine. Is the Cam 2 "
            "compatible with 5G wifi?",
            "Setup keeps failing on the kestrel cam 2, error 1042 \"unable to join network\". I've reset it twice. "
            "getting annoyed, this was supposed to be a 5 minute job",
            "Just bought a second Cam 2 for the garage. The first one set up fine a year ago but this one fails "
            "setup at the network step no matter what I do. Our internet company replaced the router since then, "
            "if that matters.",
            "New camera stuck on blinking blue forever during setup, it never finds the wifi network. Phone is "
            "connected to wifi, bluetooth on, location on. What am I missing??",
            "Hi there, my outdoor cam drops out of setup right when it tries the wifi. Our router broadcasts one "
            "network name for both bands, not sure if that's a problem.",
            "can't add camera. setup only lists our neighbours wifi network and not ours which is weird because "
            "ours is the strongest signal in the house",
        ],
    },
    {
        "slug": "cam2-night-glare",
        "products": ["Kestrel Cam 2"],
        "must_mention": ["Glass Mode"],
        "ack": "That white haze at night is the Kestrel Cam 2's infrared light bouncing back off the window glass.",
        "steps": [
            "In the Kestrel app, open Kestrel Cam 2 > Settings > Night Vision.",
            "Turn on Glass Mode, which switches off the camera's own infrared light and uses the light outside "
            "instead.",
            "Move the camera so the lens almost touches the glass, which keeps reflections from the room out of "
            "the picture.",
            "If it's very dark outside, a porch or garden light near the area you watch will help a lot.",
        ],
        "held_out": 2,
        "tickets": [
            "During the day the picture from my Kestrel Cam 2 is perfect but at night it's just a white blur. It's "
            "sitting inside on the windowsill looking out at the driveway.",
            "Night video is completely washed out. I can see my own reflection and the room behind me, not the "
            "yard. Camera is behind a window.",
            "hi, why does my cam 2 show a big white glow at night?? daytime fine. its indoors pointing through the "
            "glass door to the garden",
            "The Cam 2 we put in the front bay window shows nothing useful after dark, just a bright haze with "
            "some dots. Is it faulty? I'd like a replacement if so.",
            "After sunset the camera image turns grey and foggy and I can't make out anything outside. It looks "
            "like it's filming the window itself.",
            "Got the Kestrel Cam 2 to keep an eye on the car through the kitchen window. Night recordings are "
            "useless, there's a super bright white smear in the middle. Any setting for this?",
            "Evenings the camera picture goes all misty white. Daylight no problem. It's mounted indoors facing "
            "out through a window. Please advise.",
            "cam 2 night mode is basically a white screen. I can see little red dots glowing on the glass in the "
            "picture",
        ],
    },
    {
        "slug": "cam2-motion-zones",
        "products": ["Kestrel Cam 2"],
        "must_mention": ["Activity Zones"],
        "ack": "Too many motion alerts from a Kestrel Cam 2 usually means it's watching more of the scene than you "
        "need it to.",
        "steps": [
            "In the Kestrel app, open Kestrel Cam 2 > Settings > Activity Zones.",
            "Draw a zone around just the area you care about, like the path or the driveway, and leave out the "
            "street, trees and hedges.",
            "Under Motion Sensitivity, move the slider down one or two notches.",
            "If you only want to hear about people, turn on Person Alerts Only as well.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Cam 2 sends me about 200 motion notifications a day. Every car driving past, every time "
            "the wind moves the hedge. I've basically started ignoring them, which defeats the point.",
            "way too many motion alerts from the front camera. trees blowing = alert. rain = alert. can I make it "
            "only care about my driveway?",
            "Hello, the camera keeps recording motion from the street traffic all day long and my cloud storage "
            "fills up with clips of buses and cars. How do I stop that?",
            "Is there a way to get the Cam 2 to ignore the neighbour's yard? Their dog sets off the motion alerts "
            "constantly and I'm getting notified every ten minutes.",
            "Phone buzzing nonstop with motion alerts from the cam 2. Shadows, cars, leaves. It's mounted over the "
            "garage facing the road.",
            "We love the camera but the motion alerts are out of control and my husband wants to return it. 60+ "
            "alerts before lunch today, nearly all of them the flag on the lawn flapping.",
            "too many false motion alerts from my kestrel cam, mostly cars on the road at night with their "
            "headlights",
            "Can I limit which part of the picture triggers motion alerts? The camera covers the path and the "
            "sidewalk and I only care about the path.",
        ],
    },
    # --------------------------------------------------------------------------------------- Kestrel Cam Mini
    {
        "slug": "cammini-offline",
        "products": ["Kestrel Cam Mini"],
        "must_mention": ["Reconnect Wi-Fi"],
        "ack": "A blinking orange light means your Kestrel Cam Mini has lost its connection to your Wi-Fi.",
        "steps": [
            "Hold the Setup button on the back of the Kestrel Cam Mini for 5 seconds, until the light blinks blue.",
            "In the Kestrel app, open Kestrel Cam Mini > Settings > Reconnect Wi-Fi.",
            "Pick your network, enter its password and wait for the light to turn solid blue.",
        ],
        "held_out": 3,
        "tickets": [
            "My Kestrel Cam Mini has been offline since yesterday. The light on the front is blinking orange. "
            "Tried unplugging it, no change.",
            "camera light blinking orange, app says offline. it's the small indoor one in the nursery so I really "
            "need it working tonight",
            "Hi, the Cam Mini in our living room went offline and the light is blinking orange. We changed the "
            "wifi password on the weekend, could that be it?",
            "The mini cam keeps flashing orange and won't come back online. Router is fine, everything else works.",
            "Kestrel Cam Mini has shown as offline in the app for 3 days now. Orange light flashing. I already "
            "restarted the router and the camera.",
            "Our little indoor camera went offline after the internet dropped during the storm. The internet is "
            "back but the cam isn't, the light just blinks orange at me.",
            "cam mini offline again, orange blinking. this is the 2nd time this month",
            "Good morning, I moved the Cam Mini to the upstairs bedroom and since then it's offline. The status "
            "light is blinking orange.",
            "The baby monitor camera (Kestrel Cam Mini) went offline and I can't get it back. What do the orange "
            "flashes mean?",
        ],
    },
    {
        "slug": "cammini-talk-echo",
        "products": ["Kestrel Cam Mini"],
        "must_mention": ["Push to Talk"],
        "ack": "The echo you hear through the Kestrel Cam Mini happens when its speaker and your phone's "
        "microphone are open at the same time.",
        "steps": [
            "In the Kestrel app, open Kestrel Cam Mini > Settings > Audio.",
            "Change Talk Mode from Two-Way to Push to Talk.",
            "Lower Speaker Volume to about 60%.",
            "In Live View, hold the microphone button while you speak and let go to listen.",
        ],
        "held_out": 2,
        "tickets": [
            "When I use talk on the Kestrel Cam Mini to speak to my dog there's a horrible echo and sometimes a "
            "loud screech. Makes the dog more anxious, not less.",
            "two way audio on the mini cam is unusable, I hear myself back with a delay and my kids say I sound "
            "like a robot",
            "Hi, whenever I talk through the camera from my phone it squeals with feedback. Is the speaker broken?",
            "Is there a way to stop the echo when talking through my Cam Mini? My mother hears her own voice "
            "repeated and it confuses her.",
            "Talking through the small camera produces a really bad echo and howling feedback. I tried lowering my "
            "phone volume, it still happens.",
            "the audio on the cam mini loops back on itself when i talk. very loud echo and whine",
            "Love the Kestrel Cam Mini but talking through it is painful - there's an echo every single time and I "
            "can barely hear the reply over it.",
            "Every time I press the microphone to talk in live view there's a screeching echo from the camera. It "
            "just started after I turned the volume up.",
        ],
    },
    {
        "slug": "cammini-privacy-schedule",
        "products": ["Kestrel Cam Mini"],
        "must_mention": ["Privacy Schedule"],
        "ack": "When a Kestrel Cam Mini turns itself off at the same times every day, a schedule in the app is "
        "almost always the reason.",
        "steps": [
            "In the Kestrel app, open Kestrel Cam Mini > Settings > Privacy Schedule.",
            "Delete any schedule you didn't set up, or change its hours.",
            "Then check Settings > Home & Away: if \"Camera off when someone is home\" is on, the camera turns off "
            "whenever a phone on your account is at home.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Cam Mini turns itself off every morning at 8 and back on at 6pm. I didn't set that up. Is "
            "it broken?",
            "the camera keeps switching itself off during the day. app says camera is off but I never turned it "
            "off.",
            "Hi, the cam mini turns itself off every weekday between 9 and 5, so there are gaps in the recordings. "
            "Is it overheating?",
            "Our indoor camera turns itself off whenever I'm home, but when my wife is home alone it stays on. "
            "Very confusing, what's going on?",
            "Cam Mini switches itself off at the same time every night, around 11pm. There's nothing in the "
            "history explaining it.",
            "The small kestrel camera in the hallway shows \"camera off\" for hours every day. We need it on while "
            "we're at work.",
            "Why does my cam mini keep turning itself off?? missed a delivery because it was off at 2pm",
            "Hello, the mini camera turns off every day on a timetable that I certainly didn't create. Perhaps my "
            "teenager did. How do I find it and get rid of it?",
        ],
    },
    # --------------------------------------------------------------------------------------- Kestrel Doorbell
    {
        "slug": "doorbell-chime",
        "products": ["Kestrel Doorbell"],
        "must_mention": ["Re-pair chime"],
        "ack": "When the Kestrel Doorbell rings in the app but not in the house, its link to the indoor chime has "
        "usually dropped.",
        "steps": [
            "In the Kestrel app, open Kestrel Doorbell > Settings > Chime.",
            "Tap Re-pair chime and follow the prompts.",
            "When it asks, hold the button on the indoor chime until its light flashes.",
            "Press the doorbell once to test it.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Doorbell shows visitors in the app but the chime inside the house doesn't ring anymore. It "
            "used to.",
            "doorbell rings on my phone but the chime in the house is silent. we nearly missed a delivery because "
            "nobody heard it",
            "Hi, since the update last week the indoor chime stays silent when someone presses the doorbell. App "
            "notifications still come through.",
            "The chime inside has stopped ringing with the Kestrel Doorbell, no ding-dong at all. It has new "
            "batteries.",
            "Chime not ringing when the doorbell is pressed. Everything else works. Please help, my dad doesn't "
            "carry a phone and relies on hearing it.",
            "Since a power cut yesterday the plug-in chime doesn't ring when someone presses the doorbell. The "
            "doorbell itself is fine.",
            "indoor chime dead silent. doorbell button works, app alerts work. tried unplugging the chime, nothing",
            "Good afternoon. I moved the chime to another room and now it won't ring when the doorbell is pressed. "
            "Is there a setting I need to change?",
            "Is the chime supposed to ring when someone presses the Kestrel Doorbell? Ours stopped ringing a few "
            "days ago, the notifications on my phone still work.",
        ],
    },
    {
        "slug": "doorbell-battery",
        "products": ["Kestrel Doorbell"],
        "must_mention": ["Power Saver"],
        "ack": "A Kestrel Doorbell battery that runs down in days is nearly always down to how often the doorbell "
        "wakes up.",
        "steps": [
            "In the Kestrel app, open Kestrel Doorbell > Settings > Power.",
            "Turn on Power Saver, which shortens clips and skips the pre-roll.",
            "Under Motion Range, bring the range in so people and cars on the street don't wake it.",
            "Charge the battery fully before you put it back.",
        ],
        "held_out": 3,
        "tickets": [
            "The battery in my Kestrel Doorbell is lasting about 4 days. The box said months! Is the battery "
            "faulty?",
            "doorbell battery dead again. charged it sunday, now it's wednesday. this is ridiculous",
            "Hi, we live on a busy street and I think the doorbell is recording every car going past, because the "
            "battery barely lasts a week. What can I do?",
            "How do I make the doorbell battery last longer? It's at 20% after five days.",
            "Kestrel Doorbell battery draining super fast since we installed it. Constantly charging it is not "
            "what I signed up for.",
            "My battery doorbell goes flat every few days. It faces a footpath with lots of people walking by.",
            "the doorbell battery keeps dying. 100% to 0 in less than a week. is this normal??",
            "Hello, the battery on my doorbell drains about 25% a day. Is that expected? I'd like it to last at "
            "least a month between charges.",
            "The doorbell needs a recharge every three or four days, which is a real nuisance with the little "
            "screw on the bottom. Are there any settings that help?",
            "Battery life on the Kestrel Doorbell is terrible. I charge it to full and it's drained within the "
            "week. Does it need a new battery?",
        ],
    },
    {
        "slug": "doorbell-late-alerts",
        "products": ["Kestrel Doorbell"],
        "must_mention": ["Priority Alerts"],
        "ack": "Late alerts from the Kestrel Doorbell usually mean your phone is holding back the app's "
        "notifications to save power.",
        "steps": [
            "In the Kestrel app, go to Account > Notifications and turn on Priority Alerts.",
            "On an iPhone, allow Time Sensitive notifications for the Kestrel app; on Android, set the app's "
            "battery use to Unrestricted.",
            "Press the Kestrel Doorbell once to test it: the alert should arrive within a couple of seconds.",
        ],
        "held_out": 2,
        "tickets": [
            "Notifications from my Kestrel Doorbell come through 30 seconds to a minute after someone rings. By "
            "the time I open the app they've left.",
            "doorbell alerts are super slow. the courier had already gone by the time my phone buzzed",
            "Hello, doorbell notifications on my phone are delayed, sometimes by several minutes. The video is "
            "fine once I open the app.",
            "Why are my doorbell notifications so late? my android phone only shows them when I unlock it",
            "The Kestrel Doorbell alert shows up after the visitor has already walked away. Wifi at the door is "
            "strong, I checked.",
            "late notifications from the doorbell!! missed my grocery delivery twice this week",
            "Someone rang the doorbell at 14:02 and the notification arrived at 14:05. This happens most of the "
            "time. My phone is an iphone 13.",
            "My doorbell notifications reach my phone way after the fact. Sometimes I only see them when I pick "
            "the phone up later.",
        ],
    },
    {
        "slug": "doorbell-wired-power",
        "products": ["Kestrel Doorbell"],
        "must_mention": ["Power Kit"],
        "ack": "If a wired Kestrel Doorbell keeps restarting or warns about power, it isn't getting enough from "
        "the old doorbell transformer.",
        "steps": [
            "In the Kestrel app, open Kestrel Doorbell > Settings > Device Info and check Input Voltage: it needs "
            "at least 16 V AC.",
            "If it reads lower, turn the power off at the breaker and fit the Power Kit from the box at your "
            "indoor chime, following the wiring guide in the app.",
            "If the voltage is still low with the Power Kit in place, the transformer needs replacing with a 16-24 "
            "V one, which an electrician can do quickly.",
        ],
        "held_out": 2,
        "tickets": [
            "I hard-wired my Kestrel Doorbell to the old doorbell wires and now it keeps rebooting, over and over.",
            "The doorbell says low power even though it's wired in. The old doorbell worked fine on the same "
            "wires.",
            "Hi team, the wired install of the doorbell went ok but in the evening it restarts itself over and "
            "over and the light goes round in circles. Any ideas?",
            "doorbell keeps restarting. it's the wired one. driving me mad",
            "After wiring the Kestrel Doorbell the app shows a power warning and the video keeps cutting out. The "
            "house is from the 70s if that matters.",
            "My wired video doorbell turns off whenever someone presses the button, then reboots. Very odd.",
            "Installed the doorbell on the existing wiring. It works for a bit then shuts down and reboots. Is the "
            "transformer the issue?",
            "Wired doorbell: constant reboot loop, warning about insufficient power. My electrician says the "
            "wiring is fine.",
        ],
    },
    # ------------------------------------------------------------------------------------- Kestrel Thermostat
    {
        "slug": "thermostat-offset",
        "products": ["Kestrel Thermostat"],
        "must_mention": ["Temperature Offset"],
        "ack": "If the Kestrel Thermostat reads a few degrees away from your other thermometers, you can correct "
        "it in the app.",
        "steps": [
            "Put a thermometer you trust next to the Kestrel Thermostat for 30 minutes, out of direct sun and "
            "drafts.",
            "In the Kestrel app, open Kestrel Thermostat > Settings > Temperature Offset.",
            "Set the offset to the difference (for example -2 if the thermostat reads 2 degrees high) and tap "
            "Save.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Thermostat reads 21 degrees but the thermometer in the same room says 18. Which one is "
            "right?",
            "the thermostat reading is always 2-3 degrees higher than actual. every other thermometer in the house "
            "agrees with each other",
            "Hi, is there a way to adjust the temperature the Kestrel Thermostat shows? It reads warmer than the "
            "room really is and we're freezing.",
            "Thermostat thinks the room is colder than it is, so it overheats the house. I've compared it with two "
            "different thermometers.",
            "Our thermostst is on a wall that gets the afternoon sun and it reads wrong all day. Can I correct it "
            "somehow without moving it?",
            "the temp on the thermostat is off by about 3 degrees compared to the thermometer on my weather "
            "station. how do I fix this",
            "Kestrel Thermostat temperature is inaccurate - it shows 68 degrees when my thermometer says 72. "
            "Please tell me how to correct it.",
            "My thermostat's reading never matches reality. It's always a couple of degrees out, so I'm constantly "
            "fiddling with the setpoint.",
        ],
    },
    {
        "slug": "thermostat-short-cycle",
        "products": ["Kestrel Thermostat"],
        "must_mention": ["Temperature Swing"],
        "ack": "Heating that switches on and off every few minutes is called short cycling, and the Kestrel "
        "Thermostat lets you widen the range it works in.",
        "steps": [
            "In the Kestrel app, open Kestrel Thermostat > Settings > Equipment.",
            "Raise Temperature Swing from 0.5 to 1 degree (1.5 for a forced-air furnace).",
            "Set Minimum Run Time to 5 minutes.",
            "Check the furnace filter too: a clogged filter can make the furnace overheat and shut off early.",
        ],
        "held_out": 3,
        "tickets": [
            "Since installing the Kestrel Thermostat our furnace turns on for 2 minutes, shuts off, and turns back "
            "on 5 minutes later. All day.",
            "heating keeps clicking on and off every few minutes. it never stays on long enough to warm the house",
            "Hello, our boiler is cycling constantly with the new thermostat. The old one didn't do this. Is there "
            "a setting?",
            "The thermostat turns the heat on and off like 10 times an hour. I'm worried about wear on the "
            "furnace.",
            "Air con kicks on, runs 3 minutes, turns off, on again, off again. The Kestrel Thermostat went in last "
            "week and we never had this cycling before.",
            "furnace short cycling with kestrel thermostat. how do I fix",
            "The heating turns on, runs a couple of minutes, turns off, and repeats all evening. Is the thermostat "
            "faulty?",
            "Our heating turns on and off in bursts of a few minutes since we switched thermostats. It's noisy at "
            "night - click, whoosh, click.",
            "My Kestrel Thermostat keeps turning the heat pump on and off every couple of minutes. Surely that's "
            "not good for it?",
        ],
    },
    {
        "slug": "thermostat-c-wire",
        "products": ["Kestrel Thermostat"],
        "must_mention": ["C-wire adapter"],
        "ack": "A Kestrel Thermostat that goes blank or restarts usually isn't getting steady power, which happens "
        "when there's no common (C) wire.",
        "steps": [
            "In the Kestrel app, open Kestrel Thermostat > Settings > Power and check the reading: under 3.7 V "
            "means it's short of power.",
            "Turn the heating and cooling off at the breaker, then fit the C-wire adapter from the box at your "
            "furnace, following the wiring guide in the app.",
            "Turn the power back on and wait for the thermostat to show Power: Steady.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Thermostat screen keeps going blank and the app says it's offline half the time.",
            "thermostat keeps rebooting by itself, maybe 5-6 times a day, and the screen goes blank each time",
            "Hi, the thermostat screen goes blank and it loses wifi, then comes back after a while. Our installer "
            "said we only have 2 wires.",
            "The new thermostat shows a low power warning, the screen goes blank and sometimes the heat doesn't "
            "come on at all. Old house, old wiring.",
            "Kestrel Thermostat screen goes blank and it restarts every time the furnace kicks on. What's "
            "happening?",
            "The thermostat drops off the network constantly, and when I walk up to it the screen is black until I "
            "touch it twice.",
            "Is it normal for my thermostat to restart itself with a blank screen? It happens whenever the heating "
            "switches on. There are only red and white wires at the wall.",
            "screen on the kestrel thermostat flickers then goes out. did I wire it wrong? there was no blue wire "
            "on the old one",
            "The screen on my thermostat goes blank for a few seconds and then it reboots. The installer mentioned "
            "something about a missing wire.",
        ],
    },
    {
        "slug": "thermostat-hold",
        "products": ["Kestrel Thermostat"],
        "must_mention": ["Resume Schedule"],
        "ack": "When the Kestrel Thermostat stops following its schedule, a permanent hold from an earlier manual "
        "change is usually still on.",
        "steps": [
            "Open the Kestrel Thermostat in the Kestrel app: if its home screen says Hold, tap Resume Schedule.",
            "Go to Settings > Schedule > Manual Changes and choose Until Next Change instead of Permanent.",
            "Make sure Eco and Away are both off, since either one overrides the schedule.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Thermostat isn't following the schedule I set. It just sits at 22 all day and night.",
            "thermostat ignoring schedule. set it to drop to 17 at night but it stays at 20",
            "Hello, I changed the temperature by hand one evening last week and it seems the schedule hasn't run "
            "since. Is that how it's supposed to work?",
            "Schedule isn't working on my thermostat at all. The heating should turn down at 10pm and it doesn't.",
            "The thermostat just keeps holding the last temperature I set by hand. What's the point of a schedule "
            "then??",
            "Why won't the Kestrel Thermostat switch to the morning setting? There's a word on the screen saying "
            "hold, not sure what that means.",
            "My heating no longer changes temperature through the day like it did when we set it up. The schedule "
            "is still there in the app.",
            "the schedule stopped working on the kestrel thermostat after my wife adjusted it on the wall. it "
            "stays on her temp forever now",
        ],
    },
    # ------------------------------------------------------------------------------------------- Kestrel Lock
    {
        "slug": "lock-jam",
        "products": ["Kestrel Lock"],
        "must_mention": ["Calibrate"],
        "ack": "A Kestrel Lock that stops part-way usually needs to relearn where your door's locked and unlocked "
        "positions are.",
        "steps": [
            "Open the door so the bolt can move freely.",
            "In the Kestrel app, open Kestrel Lock > Settings > Calibrate.",
            "Turn the thumb-turn fully to locked and tap Next, then fully to unlocked and tap Next.",
            "Close the door and lock it from the app; if the bolt still drags, the strike plate on the frame may "
            "need moving slightly.",
        ],
        "held_out": 3,
        "tickets": [
            "My Kestrel Lock gets stuck halfway when locking and the app says jammed. I have to finish turning it "
            "by hand.",
            "the lock jams almost every time it tries to lock. makes a grinding sound and stops",
            "Hi, after changing the batteries the smart lock won't throw the bolt all the way out and the app says "
            "jammed.",
            "Kestrel Lock says jammed whenever I lock it from the app. Unlocking works fine.",
            "door lock motor strains and gives up halfway, before the bolt is fully out. the door is closed "
            "properly.",
            "Lock won't extend the bolt fully. It goes most of the way, backs off and says jammed. Started after "
            "we had the door painted.",
            "the kestrel lock keeps failing to lock at night. bolt stops halfway, app says jammed, and I get the "
            "alert at 2am. not fun",
            "Hello, our lock has started making a whirring noise and then reporting jammed. The deadbolt is only "
            "halfway out when it stops.",
            "The smart lock on our back door stops short when locking, bolt halfway out. I've wiggled the door and "
            "checked it lines up. Any suggestions?",
            "Our Kestrel Lock has jammed three times this week. The bolt gets halfway out and stops with a "
            "grinding noise.",
        ],
    },
    {
        "slug": "lock-auto-lock",
        "products": ["Kestrel Lock"],
        "must_mention": ["Door Position Sensor"],
        "ack": "Auto-lock on the Kestrel Lock needs to know whether the door is shut, so it relies on its door "
        "sensor being set up.",
        "steps": [
            "Stick the small magnet from the box to the door frame, opposite the lock.",
            "In the Kestrel app, open Kestrel Lock > Settings > Door Position Sensor and follow the steps (door "
            "open, then closed).",
            "Then go to Settings > Auto-Lock, turn it on and pick a delay, for example 1 minute after the door "
            "closes.",
        ],
        "held_out": 2,
        "tickets": [
            "Auto-lock on my Kestrel Lock doesn't seem to do anything. The door stays unlocked all day.",
            "the lock locked itself while the door was still wide open and now the bolt hits the frame when I "
            "close it. annoying",
            "Hi, is there a way for the lock to lock automatically after I close the door? I turned on auto-lock "
            "but nothing happens.",
            "My smart lock doesn't know if the door is open or closed, the app always shows unknown, and auto-lock "
            "never kicks in.",
            "Kestrel Lock auto locking not working. I walk out, close the door, and half an hour later it's still "
            "unlocked.",
            "Our front door lock throws the bolt while the door is open, so when my son slams it shut it bangs the "
            "frame. How do I make it wait until the door's shut?",
            "auto lock isn't working on the kestrel lock, the toggle won't even stay on",
            "Hello - I want the door to lock automatically a minute after it closes. Where do I set this up "
            "properly? Right now it doesn't happen.",
        ],
    },
    {
        "slug": "lock-codes",
        "products": ["Kestrel Lock"],
        "must_mention": ["Sync Codes"],
        "ack": "When a new code isn't accepted at the Kestrel Lock keypad, it usually hasn't reached the lock yet.",
        "steps": [
            "Stand near the lock, within Bluetooth range, with the Kestrel app open.",
            "Open Kestrel Lock > Access Codes and tap Sync Codes.",
            "Check the code's schedule: a guest code only works on the days and at the hours you set.",
        ],
        "held_out": 2,
        "tickets": [
            "I created a code for our dog walker on the Kestrel Lock but it doesn't work on the keypad. Red light "
            "every time.",
            "new guest code won't open the door. my own code works fine",
            "Hi, I added a code for my cleaner yesterday and she couldn't get in this morning. The keypad just "
            "flashed red.",
            "Codes I add in the app aren't working on the lock keypad. Deleted and re-added, same thing.",
            "The keypad on our Kestrel Lock rejects the code I set for my parents. They're visiting next week so I "
            "need this sorted.",
            "keypad says wrong code but it's definitely right, I'm reading it straight off the app",
            "The keypad code for the babysitter isn't recognised by the lock. It worked the first day, not since.",
            "Hello, why doesn't the keypad accept new codes? Old ones work, anything I create this week fails.",
        ],
    },
    {
        "slug": "lock-battery-type",
        "products": ["Kestrel Lock"],
        "must_mention": ["Battery Type"],
        "ack": "The Kestrel Lock judges its batteries by voltage, so rechargeables can look nearly empty even when "
        "they're full.",
        "steps": [
            "If you can, use four new alkaline or lithium AA batteries.",
            "If you'd rather use rechargeables, open Kestrel Lock > Settings > Battery Type in the Kestrel app and "
            "choose Rechargeable (NiMH).",
            "Give the reading a few minutes to update after you change the setting.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Lock says the battery is low even though I put brand new batteries in yesterday.",
            "lock shows 10% battery straight after charging my rechargeables. is the meter broken?",
            "Hi, I use rechargeable batteries in my lock and the app always shows them as nearly flat.",
            "Low battery warning on the lock won't go away. Fresh batteries, fully charged.",
            "The Kestrel Lock keeps nagging me that the batteries are almost dead. They're new Eneloops.",
            "battery indicator on my door lock is wrong, shows critical right after swapping in freshly charged "
            "rechargeable cells",
            "Hello, the lock has been warning about low battery for a month. I've changed them twice now. Is "
            "something draining them?",
            "Why does my smart lock think the batteries are flat? I put in a full set of charged ones.",
            "Kestrel Lock reports low battery on the rechargeable batteries I just charged. Do I have to use "
            "disposable ones?",
        ],
    },
    # -------------------------------------------------------------------------------------------- Kestrel Hub
    {
        "slug": "hub-change-network",
        "products": ["Kestrel Hub"],
        "must_mention": ["Change Network"],
        "ack": "After a new router or Wi-Fi password, the Kestrel Hub needs to be told about the new network; your "
        "devices stay paired to it.",
        "steps": [
            "Hold the button on the back of the Kestrel Hub for 10 seconds, until the light pulses white.",
            "In the Kestrel app, open Kestrel Hub > Settings > Change Network.",
            "Choose your new network and enter its password; your devices will come back by themselves within a "
            "few minutes.",
            "If the Kestrel Hub is near the router, an Ethernet cable between them saves you doing this next time.",
        ],
        "held_out": 3,
        "tickets": [
            "We got a new router and now my Kestrel Hub and everything connected to it is offline.",
            "changed my wifi password and now the hub won't connect. all my sensors and lights show unavailable",
            "Hi, our internet provider gave us a new router and the hub has been offline since. The light on it is "
            "flashing red.",
            "The Kestrel Hub went offline after I renamed our wifi network. How do I get it back on?",
            "New router installed today. Hub light blinking, app says hub offline. Other devices on the wifi are "
            "fine.",
            "moved house, hub won't join the new network. do I have to set everything up again?? I have 20 devices "
            "on it",
            "Kestrel Hub offline since the broadband upgrade. Lights, plugs and sensors all unresponsive in the "
            "app.",
            "Hello, I've switched to a different internet company and I can't work out how to put the hub on the "
            "new wifi.",
            "Our router died and the new one has a different wifi name and password. Now the hub is offline and "
            "nothing on it works. Please tell me I don't have to pair all 15 devices again.",
        ],
    },
    {
        "slug": "hub-radio-channel",
        "products": ["Kestrel Hub"],
        "must_mention": ["Radio Channel"],
        "ack": "When everything on the Kestrel Hub responds slowly, it's usually radio interference from a nearby "
        "Wi-Fi router.",
        "steps": [
            "Move the Kestrel Hub at least 1 m away from your Wi-Fi router and out of any metal cabinet.",
            "In the Kestrel app, open Kestrel Hub > Settings > Radio Channel and choose 25, the channel furthest "
            "from Wi-Fi.",
            "Give your devices about 10 minutes to move over; battery sensors follow the next time they wake up.",
        ],
        "held_out": 2,
        "tickets": [
            "Everything connected to my Kestrel Hub is really slow to respond. Lights take 5-10 seconds to turn on "
            "from the app.",
            "laggy hub. switches and bulbs are slow to respond, sometimes they don't respond at all",
            "Hi, since I put the hub in the media cabinet next to the router, everything on it is slow to respond "
            "and my sensors report late.",
            "Everything on the Kestrel Hub gets slow in the evening when everyone's streaming: long delays or no "
            "response at all. During the day it's ok.",
            "Commands to my plugs through the hub are slow and hit and miss. Sometimes instant, sometimes a 20 "
            "second delay, sometimes nothing.",
            "our motion-triggered lights come on way too late, by the time they turn on I'm already across the "
            "room. they're all on the kestrel hub",
            "delays of several seconds with everything on the hub. internet speed is fine, I tested it.",
            "Hello, the devices paired to our hub are sluggish and a couple drop off every day. The hub sits right "
            "on top of the wifi router.",
        ],
    },
    {
        "slug": "hub-lock-remote",
        "products": ["Kestrel Lock", "Kestrel Hub"],
        "must_mention": ["Remote Access"],
        "ack": "The Kestrel Lock talks to your phone over Bluetooth at home, so away from home it needs the "
        "Kestrel Hub to pass your commands along.",
        "steps": [
            "In the Kestrel app, open Kestrel Lock > Settings > Remote Access and turn it on.",
            "Choose your Kestrel Hub as the bridge; it should be within about 10 m of the door.",
            "Test it by switching your phone to mobile data and locking the door from the app.",
        ],
        "held_out": 2,
        "tickets": [
            "I can lock and unlock my Kestrel Lock from the app when I'm home, but not when I'm at work. It says "
            "device out of range.",
            "lock only works from my phone when I'm standing near the door. I have the hub, shouldn't it work from "
            "anywhere?",
            "Hi, I wanted to unlock the door remotely for my brother while I was away but the app couldn't reach "
            "the lock. I do have a Kestrel Hub.",
            "Can't control the door lock remotely. At home fine, on mobile data nothing.",
            "The lock shows as not nearby in the app as soon as I leave the house. The hub is set up and working "
            "for my lights.",
            "Kestrel Lock unavailable remotely. I bought the Kestrel Hub specifically so I could lock up from the "
            "office and it didn't help.",
            "when I'm away the app can't connect to the door lock, it only connects over bluetooth",
            "Hello, how do I get my lock to work through the hub? Right now I can only use it when I'm in "
            "bluetooth range.",
            "Is it possible to lock the Kestrel Lock remotely when I'm not home? The app only finds it over "
            "bluetooth, even though the hub is right by the door.",
        ],
    },
    # ------------------------------------------------------------------------------------ Kestrel Smoke Alarm
    {
        "slug": "smoke-chirp",
        "products": ["Kestrel Smoke Alarm"],
        "must_mention": ["Self-Test"],
        "ack": "A single chirp every minute or so from the Kestrel Smoke Alarm means its backup battery is running "
        "low.",
        "steps": [
            "Twist the Kestrel Smoke Alarm off its base and replace the backup battery with a new CR123A.",
            "Put the alarm back on its base.",
            "In the Kestrel app, open Kestrel Smoke Alarm > Self-Test (or hold its button for 3 seconds) to check "
            "it's working and clear the warning.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Smoke Alarm chirps every minute. It's driving me up the wall.",
            "smoke alarm beeping once every 40 secs or so. no smoke. 3am. please help",
            "Hi, the smoke detector in the hallway gives a short chirp roughly every minute. It's wired to the "
            "mains so I didn't think it had a battery.",
            "Chirping smoke alarm. Pressed the button, it stopped for a bit then started again.",
            "The Kestrel Smoke Alarm upstairs keeps making a single high beep every so often. The app doesn't show "
            "any alarm.",
            "one of my smoke alarms chirps randomly, maybe once a minute. it's been 2 days and my dog is terrified",
            "Hello, what does a single beep every minute from the smoke alarm mean? It's the kestrel one in the "
            "bedroom.",
            "that smoke alarm won't stop chirping. i've vacuumed it like the manual says and it's still going",
        ],
    },
    {
        "slug": "smoke-cooking",
        "products": ["Kestrel Smoke Alarm"],
        "must_mention": ["Smart Hush"],
        "ack": "Nuisance alarms from cooking or shower steam are common when a Kestrel Smoke Alarm is close to the "
        "kitchen or bathroom.",
        "steps": [
            "If you can, move the alarm at least 3 m from the oven or the bathroom door.",
            "In the Kestrel app, open Kestrel Smoke Alarm > Settings > Room and set it to Kitchen.",
            "Turn on Smart Hush, so you can quiet a nuisance alarm from your phone for 10 minutes.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Smoke Alarm goes off every time I cook anything. Even toast. The whole house gets woken "
            "up.",
            "smoke alarm triggers when someone showers. bathroom is right next to the hallway where it is",
            "Hi, the smoke alarm in our open-plan kitchen goes off whenever we fry something. I'm tempted to take "
            "the battery out but I know I shouldn't.",
            "False alarms from the smoke detector whenever the oven's on. How do I stop this without disabling it?",
            "Every time we make stir fry the smoke alarm screams at us. Is it too sensitive?",
            "Hello, steam from the shower sets off the smoke alarm almost daily. Can it tell steam from smoke?",
            "the kestrel smoke alarm keeps going off from cooking fumes. i open the windows and it still happens",
            "Our Kestrel Smoke Alarm sounds when I sear a steak. There's barely any smoke. Way too touchy.",
        ],
    },
    {
        "slug": "smoke-interconnect",
        "products": ["Kestrel Smoke Alarm"],
        "must_mention": ["Interconnect Test"],
        "ack": "If only one Kestrel Smoke Alarm sounds when you test it, your alarms aren't linked to each other "
        "yet.",
        "steps": [
            "Make sure every alarm is added to the same home in the Kestrel app.",
            "Open any Kestrel Smoke Alarm > Settings > Interconnect Test and tap Start.",
            "Every alarm should beep in turn; for any that stay quiet, hold their button for 5 seconds and add "
            "them again.",
        ],
        "held_out": 2,
        "tickets": [
            "I have three Kestrel Smoke Alarms. When I test one, the others don't sound. I thought they were "
            "supposed to all go off together.",
            "smoke alarms not linked. tested the kitchen one, the upstairs ones stayed silent",
            "Hi, we added a new Kestrel Smoke Alarm in the basement but it doesn't go off when the others do.",
            "Only the alarm I test sounds, the rest stay quiet. Is that normal or are they not connected?",
            "When the hallway smoke alarm went off last night (burnt popcorn) the bedroom ones didn't make a peep. "
            "Not ok with kids in the house.",
            "the smoke alarms don't sound together when I test one. how do I link them",
            "Hello, I pressed test on one smoke alarm and none of the other four joined in. They're all in the "
            "app.",
            "My smoke alarms work individually but not as a group. I need all of them to sound if one detects "
            "smoke.",
            "Tested the alarms today: the Kestrel Smoke Alarm in the kitchen sounded but the other two stayed "
            "silent. Aren't they meant to be linked?",
        ],
    },
    # ------------------------------------------------------------------------------------------- Kestrel Plug
    {
        "slug": "plug-schedule-timezone",
        "products": ["Kestrel Plug"],
        "must_mention": ["Time Zone"],
        "ack": "A Kestrel Plug schedule that's off by exactly an hour means your home's time setting doesn't match "
        "where you are.",
        "steps": [
            "In the Kestrel app, go to Home Settings > Time Zone and choose your city rather than a UTC offset, so "
            "daylight saving is handled for you.",
            "Open Kestrel Plug > Schedules and check the times still read as you set them.",
            "Turn the plug off and on once from the app so it picks up the new time.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Plug schedule turns the lamp on an hour late. Set for 6pm, comes on at 7.",
            "plug schedules all an hour off since the clocks changed",
            "Hi, the schedule on my smart plug runs one hour early every day. I've re-saved it a few times.",
            "The Kestrel Plug turns the heater off at the wrong time, exactly an hour after the schedule says.",
            "Schedules on all my plugs are shifted by an hour. My phone shows the right time.",
            "my christmas lights come on at 4 instead of 5, the plug schedule is wrong by an hour",
            "Hello, I recently moved across the country and my plug schedules are now out by an hour.",
            "kestrel plug schedule off by one hour. very annoying, the porch light comes on late",
        ],
    },
    {
        "slug": "plug-power-restore",
        "products": ["Kestrel Plug"],
        "must_mention": ["Power-On Behavior"],
        "ack": "After a power cut, a Kestrel Plug comes back in whatever state its power-on setting tells it to.",
        "steps": [
            "In the Kestrel app, open Kestrel Plug > Settings > Power-On Behavior.",
            "Choose Restore Last State, or Always On for things like a freezer or your router.",
            "Do the same for each plug you want to behave this way.",
        ],
        "held_out": 2,
        "tickets": [
            "After a power cut, my Kestrel Plug stays off and I have to turn it back on in the app. The freezer is "
            "on it!",
            "every time the power flickers the smart plug turns off and stays off",
            "Hi, we had an outage last night and this morning the plug running our fish tank pump was off. Can it "
            "come back on by itself?",
            "Plug doesn't come back after a power outage. The router is plugged into it so I lose internet and "
            "can't even switch it back on remotely.",
            "The Kestrel Plug forgets its state when the electricity goes out. How do I make it turn back on "
            "automatically?",
            "power went out for 5 mins, kestrel plug now off, lamp schedule ruined",
            "Hello, is there a setting so the plug comes back on after a power cut or the breaker trips? It always "
            "stays off.",
            "After the storm knocked out power, all my plugs came back off instead of on. Some of them run "
            "important stuff.",
            "Whenever there's a power cut the plug stays off afterwards and I have to switch it back on. Can it "
            "remember that it was on?",
        ],
    },
    # ------------------------------------------------------------------------------------------- Kestrel Bulb
    {
        "slug": "bulb-dimmer-flicker",
        "products": ["Kestrel Bulb"],
        "must_mention": ["Dimmer Compatibility"],
        "ack": "Flickering from a Kestrel Bulb is almost always a wall dimmer switch chopping up its power.",
        "steps": [
            "Turn the wall dimmer all the way up and leave it there; dim from the app instead.",
            "In the Kestrel app, open Kestrel Bulb > Settings > Dimmer Compatibility and turn it on.",
            "If it still flickers, the dimmer needs swapping for a standard on/off switch.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Bulb flickers constantly, especially at lower brightness. Brand new bulb.",
            "the bulb in the dining room flickers and buzzes a bit. other bulbs in the house are fine",
            "Hi, the smart bulb in our bedroom flickers and strobes slightly. It's on a dimmer switch with a "
            "slider.",
            "Kestrel Bulb flickering like crazy. Is it defective? I want a replacement.",
            "The bulb flickers whenever it's below about 50%. It's the only one on a dimmer in our house, if "
            "that's relevant.",
            "bulb flickering all evening. gives me a headache. it's on the old rotary dimmer in the lounge",
            "Hello, our new bulb has a faint flicker that shows up in phone videos and bothers my eyes.",
            "Kestrel Bulb flickers and hums on the dimmer in the dining room. It works fine on a normal switch in "
            "another room.",
            "kestrel bulb in the hallway keeps flickering subtly, worst when it's dimmed down low.",
        ],
    },
    {
        "slug": "bulb-unreachable",
        "products": ["Kestrel Bulb"],
        "must_mention": ["five times"],
        "ack": "When a Kestrel Bulb shows as unreachable, a quick reset at the light switch usually brings it "
        "back.",
        "steps": [
            "Switch the light off and on five times, about a second apart, until the Kestrel Bulb flashes twice.",
            "In the Kestrel app, tap Add Device > Kestrel Bulb and follow the steps.",
            "Leave the wall switch on afterwards: a smart bulb can't be reached while its switch is off.",
        ],
        "held_out": 2,
        "tickets": [
            "One of my Kestrel Bulbs says unreachable in the app. The others in the same room work.",
            "bulb not responding. shows no response in app. tried turning the switch off and on",
            "Hi, my bedroom bulb stopped responding to the app after our power went out. It turns on at the switch "
            "but the app can't control it.",
            "The Kestrel Bulb in the porch light has gone unresponsive. I can't even remove it and add it again "
            "because it won't show up.",
            "bulb shows unreachable in the app. has been 2 days. others fine",
            "Is there a way to reset a bulb? It's stuck showing as unreachable in the app and won't respond.",
            "Hello, our kitchen smart bulb stopped responding in the app and says unreachable. It still lights up "
            "normally with the wall switch.",
            "My kestrel bulb is unreachable in the app and isn't responding anymore. I changed nothing. Very "
            "strange.",
        ],
    },
    {
        "slug": "bulb-group",
        "products": ["Kestrel Bulb"],
        "must_mention": ["Rebuild Group"],
        "ack": "When only some bulbs in a room respond, the Kestrel Bulb group has lost track of one or more of "
        "its members.",
        "steps": [
            "In the Kestrel app, open the room, then Group Settings.",
            "Tap Rebuild Group and wait for every Kestrel Bulb in it to blink once.",
            "Run the scene again; the bulbs should now change together.",
        ],
        "held_out": 0,
        "tickets": [
            "I have four Kestrel Bulbs in a living room group. When I turn the group on, only two of them respond.",
            "my scene only changes some of the lights in the kitchen, the rest stay as they were",
            "Hi, the bedroom group is out of sync - one bulb stays warm white when I pick blue for the others.",
            "Group control is broken, bulbs in the same room don't all switch together any more.",
            "When I tell the lounge group to dim, one bulb ignores it. On its own it works fine.",
            "Hello, after I replaced one bulb in the dining room the group behaves strangely - the new one never "
            "follows along.",
        ],
    },
    # ----------------------------------------------------------------------------------- Kestrel Water Sensor
    {
        "slug": "water-false-alarm",
        "products": ["Kestrel Water Sensor"],
        "must_mention": ["Leak Threshold"],
        "ack": "False leak alerts from the Kestrel Water Sensor usually come from condensation or a damp floor "
        "bridging its probes.",
        "steps": [
            "Dry the metal probes on the bottom of the Kestrel Water Sensor and the floor under it.",
            "In the Kestrel app, open Kestrel Water Sensor > Settings > Leak Threshold and choose Standing Water "
            "Only.",
            "If it sits on concrete that sweats, stand it on the small rubber feet from the box.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Water Sensor in the basement keeps sending leak alerts but there's no water anywhere.",
            "water sensor false alarm again. floor is dry. this is the third time this week and it always happens "
            "at night",
            "Hi, the leak sensor under our washing machine goes off randomly. I check and there's nothing there. "
            "Maybe humidity?",
            "Getting false leak alerts from the water sensor when it's humid. No water, no actual leak. Loud alarm "
            "at 4am.",
            "The Kestrel Water Sensor under the kitchen sink alarms for no reason. I dried everything out and it "
            "still beeps.",
            "false leak alerts from my water sensor on the garage floor. the concrete is a bit damp but there's no "
            "puddle",
            "Hello, is the water sensor supposed to send a leak alert for a little moisture? The floor is dry "
            "apart from some damp and it keeps alerting.",
            "leak sensor keeps crying wolf with false alerts. I'm going to stop trusting it if this carries on",
            "Third false leak alert this month from the Kestrel Water Sensor in the laundry. The floor's bone dry "
            "every time.",
        ],
    },
    {
        "slug": "water-signal",
        "products": ["Kestrel Water Sensor", "Kestrel Hub"],
        "must_mention": ["Signal Test"],
        "ack": "A Kestrel Water Sensor that keeps dropping off is usually too far from the Kestrel Hub, especially "
        "through floors and walls.",
        "steps": [
            "With the sensor where you want it, open Kestrel Water Sensor > Settings > Signal Test in the Kestrel "
            "app.",
            "If the signal is Weak, move the Kestrel Hub closer, or put a Kestrel Plug halfway between them: plugs "
            "pass messages along.",
            "Run the Signal Test again and leave the sensor where it reads Good.",
        ],
        "held_out": 2,
        "tickets": [
            "My Kestrel Water Sensor in the crawl space keeps showing no response. The hub is two floors up.",
            "water sensor keeps going offline. it's in the basement, the hub is in the upstairs office",
            "Hi, the water sensor by the water heater goes offline every day or two, then comes back. It's a long "
            "way from the hub.",
            "The Kestrel Water Sensor in our garage doesn't stay connected to the Kestrel Hub. Is it too far?",
            "Water sensor offline most of the time. The battery is new. It's at the far end of the house from the "
            "hub.",
            "water sensor in the shed is offline. the app says last seen 3 days ago. the hub is in the house",
            "Hello, I placed the water sensor behind the boiler in the cellar and it keeps going offline. The hub "
            "is upstairs.",
            "My water sensor under the upstairs bathtub goes offline constantly. The hub is downstairs in the "
            "living room.",
        ],
    },
    {
        "slug": "water-freeze",
        "products": ["Kestrel Water Sensor"],
        "must_mention": ["Freeze Alert"],
        "ack": "The Kestrel Water Sensor can warn you about freezing pipes too, but that alert is off until you "
        "turn it on.",
        "steps": [
            "In the Kestrel app, open Kestrel Water Sensor > Settings > Freeze Alert.",
            "Turn it on and set the temperature, for example 4 °C (40 °F).",
            "Put the sensor near the pipes you want to watch, away from any heater.",
        ],
        "held_out": 0,
        "tickets": [
            "Our pipes froze last week and the Kestrel Water Sensor didn't warn me. I thought it had a temperature "
            "sensor?",
            "does the water sensor do cold warnings? the basement got close to freezing and i got no alert",
            "Hi, I'm going away for the winter and want to know if the pipes get too cold. Can the water sensor "
            "tell me?",
            "No warning from the water sensor when the garage dropped below zero. We had a burst pipe. What's the "
            "point?",
            "The Kestrel Water Sensor shows the temperature in the app but never alerts me when it gets cold. How "
            "do I set that up?",
            "Hello, the water sensor at our cabin shows 1 degree in the app but no notification came. Is that a "
            "setting?",
        ],
    },
]


def reply(name, scenario):
    """The reference reply in the house voice."""
    steps = "\n".join(f"{i}. {step}" for i, step in enumerate(scenario["steps"], start=1))
    return f"Hi {name},\n\n{scenario['ack']}\n\nHere's what to try:\n{steps}\n\n{CLOSING}\n\n{SIGN_OFF}"


def normalized(text):
    """Lowercased, white space collapsed: what "the same ticket" means here."""
    return " ".join(text.lower().split())


def check(scenarios):
    slugs = [s["slug"] for s in scenarios]
    assert len(slugs) == len(set(slugs)), "duplicate scenario slug"
    seen = set()
    for s in scenarios:
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s["slug"]), s["slug"]
        assert 3 <= len(s["steps"]) <= 4, s["slug"]
        assert len(s["tickets"]) - s["held_out"] >= 4, f"{s['slug']}: fewer than 4 training tickets"
        text = reply("X", s)
        for term in s["products"] + s["must_mention"]:
            assert term in text, f"{s['slug']}: reply lacks {term!r}"
        for other in scenarios:
            if other is not s:
                for term in s["must_mention"]:
                    assert term.lower() not in reply("X", other).lower(), f"{term!r} is also in {other['slug']}"
        for ticket in s["tickets"]:
            key = normalized(ticket)
            assert key not in seen, f"duplicate ticket: {ticket!r}"
            seen.add(key)
            for term in s["must_mention"]:
                assert term.lower() not in key, f"{s['slug']}: ticket gives away {term!r}: {ticket!r}"


def main():
    check(SCENARIOS)
    rng = random.Random(SEED)

    names = NAMES[:]
    assert len(names) == len(set(names)), "duplicate name"
    rng.shuffle(names)
    held_out_names, training_names = names[:HELD_OUT_NAMES], names[HELD_OUT_NAMES:]
    sign_offs = [s for s, weight in SIGN_OFFS for _ in range(weight)]

    def name_source(pool):
        """Names in a shuffled cycle, so every customer signs about as many tickets as the next."""
        order = []
        while True:
            if not order:
                order = pool[:]
                rng.shuffle(order)
            yield order.pop()

    train_name = name_source(training_names)
    held_out_name = name_source(held_out_names)

    train_rows, held_out_rows = [], []
    for s in SCENARIOS:
        tickets = s["tickets"][:]
        rng.shuffle(tickets)
        split = [("ho", t) for t in tickets[: s["held_out"]]] + [("tr", t) for t in tickets[s["held_out"] :]]
        counters = {"ho": 0, "tr": 0}
        for part, ticket in split:
            name = next(held_out_name if part == "ho" else train_name)
            prompt = f"{ticket}\n\n{rng.choice(sign_offs).format(n=name)}"
            counters[part] += 1
            meta = {
                "id": f"{part}-{s['slug']}-{counters[part]}",
                "scenario": s["slug"],
                "products": s["products"],
                "must_mention": s["must_mention"],
                "customer": name,
            }
            completion = reply(name, s)
            row = {
                "schemaVersion": "bedrock-conversation-2024",
                "system": [{"text": SYSTEM}],
                "messages": [
                    {"role": "user", "content": [{"text": prompt}]},
                    {"role": "assistant", "content": [{"text": completion}]},
                ],
                **meta,
            }
            (train_rows if part == "tr" else held_out_rows).append(row)

    for file, rows in (("train.jsonl", train_rows), ("held-out.jsonl", held_out_rows)):
        with open(HERE / file, "w", encoding="utf-8", newline="\n") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {file}: {len(rows)} examples")


if __name__ == "__main__":
    main()
